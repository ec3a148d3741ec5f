SELECT id, number FROM policies ORDER BY id;
SELECT count(*) FROM policies WHERE number = 'PENDING'
