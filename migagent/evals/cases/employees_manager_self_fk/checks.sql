SELECT id, employee_no, manager_id FROM employees ORDER BY id;
