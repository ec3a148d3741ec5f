SELECT id, customer_id, customer_email FROM orders ORDER BY id;
