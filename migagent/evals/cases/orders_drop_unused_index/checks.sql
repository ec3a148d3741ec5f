SELECT id, status, total_cents FROM orders ORDER BY id;
