SELECT id, region FROM players ORDER BY id
