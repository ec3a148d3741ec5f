SELECT id, employee_no, full_name, email FROM employees ORDER BY id;
