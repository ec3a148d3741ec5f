SELECT id, number, currency FROM invoices ORDER BY id;
