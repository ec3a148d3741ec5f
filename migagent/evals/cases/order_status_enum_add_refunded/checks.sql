SELECT id, status::text FROM orders ORDER BY id;
SELECT 'refunded'::order_status > 'delivered'::order_status, 'refunded'::order_status < 'cancelled'::order_status;
