SELECT id, title, version, file_size FROM documents ORDER BY id;
