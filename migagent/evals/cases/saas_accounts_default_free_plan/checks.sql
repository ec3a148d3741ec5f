SELECT id, plan::text FROM accounts ORDER BY id
