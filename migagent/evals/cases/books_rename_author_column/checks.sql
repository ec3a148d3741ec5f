SELECT id, title, author_name FROM books ORDER BY id;
