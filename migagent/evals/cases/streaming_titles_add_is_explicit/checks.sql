SELECT id, is_explicit FROM titles ORDER BY id
