SELECT id, title FROM courses ORDER BY id;
