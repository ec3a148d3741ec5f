SELECT id, subtotal_cents, tax_cents, total_cents FROM invoices ORDER BY id;
