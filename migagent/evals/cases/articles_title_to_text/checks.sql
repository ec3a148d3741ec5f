SELECT id, title FROM articles ORDER BY id;
