SELECT id, amount_cents FROM donations ORDER BY id
