SELECT id, amount_cents FROM ledger_entries ORDER BY id;
SELECT sum(amount_cents) FROM ledger_entries
