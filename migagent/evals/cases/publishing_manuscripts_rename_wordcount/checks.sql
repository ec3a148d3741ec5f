SELECT id, word_count FROM manuscripts ORDER BY id
