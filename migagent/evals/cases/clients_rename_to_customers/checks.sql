SELECT id, name, email, country FROM customers ORDER BY id;
SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.client_id ORDER BY o.id;
