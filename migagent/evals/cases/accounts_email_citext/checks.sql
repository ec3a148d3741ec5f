SELECT id, email::text FROM accounts WHERE email = 'USER7@EXAMPLE.COM' ORDER BY id;
SELECT id, email::text, plan FROM accounts ORDER BY id;
