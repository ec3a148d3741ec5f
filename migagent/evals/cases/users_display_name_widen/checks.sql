SELECT id, display_name FROM users ORDER BY id;
