SELECT id, post_id, author FROM comments ORDER BY id;
