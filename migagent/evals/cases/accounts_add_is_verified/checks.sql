SELECT id, email, is_verified FROM accounts ORDER BY id;
