SELECT id, budget FROM campaigns ORDER BY id
