SELECT id, status::text FROM matches ORDER BY id
