SELECT id, signed_on FROM contracts ORDER BY id
