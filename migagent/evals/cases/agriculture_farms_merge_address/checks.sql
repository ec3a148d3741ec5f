SELECT id, address FROM farms ORDER BY id
