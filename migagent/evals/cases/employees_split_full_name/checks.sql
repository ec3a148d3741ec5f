SELECT id, full_name, first_name, last_name FROM employees ORDER BY id;
