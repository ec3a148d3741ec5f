SELECT id, price_cents, price FROM courses ORDER BY id;
