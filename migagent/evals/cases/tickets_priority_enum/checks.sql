SELECT id, priority::text FROM tickets ORDER BY id;
