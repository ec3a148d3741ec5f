SELECT id, published_at FROM posts ORDER BY id;
