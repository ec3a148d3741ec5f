SELECT id, payroll_number FROM staff ORDER BY id;
SELECT max(payroll_number) + 1 FROM staff;
