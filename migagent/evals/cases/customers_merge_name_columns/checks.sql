SELECT id, email, full_name FROM customers ORDER BY id;
