SELECT id, slug FROM posts ORDER BY id;
SELECT id, name FROM tags ORDER BY id;
