SELECT id, entity, currency FROM pay_runs ORDER BY id;
SELECT currency, count(*) FROM pay_runs GROUP BY currency ORDER BY currency;
