SELECT id, search_vector::text FROM sections ORDER BY id;
SELECT id FROM sections WHERE search_vector @@ plainto_tsquery('english', 'locking replicas') ORDER BY id;
