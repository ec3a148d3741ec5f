SELECT id, amount_cents, amount_dollars FROM claims ORDER BY id
