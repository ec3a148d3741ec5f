SELECT id, payroll_number, full_name, email FROM staff ORDER BY id;
