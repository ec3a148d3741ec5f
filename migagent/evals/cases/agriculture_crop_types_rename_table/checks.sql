SELECT id, name, growing_days FROM crops ORDER BY id
