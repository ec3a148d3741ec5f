SELECT id, title FROM recipes ORDER BY id;
