SELECT id, status::text FROM tickets ORDER BY id;
SELECT status::text, count(*) FROM tickets GROUP BY status ORDER BY status;
