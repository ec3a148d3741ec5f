SELECT id, title FROM episodes ORDER BY id
