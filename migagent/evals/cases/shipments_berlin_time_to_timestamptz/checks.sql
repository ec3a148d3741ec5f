SELECT id, extract(epoch FROM shipped_at) FROM shipments ORDER BY id;
