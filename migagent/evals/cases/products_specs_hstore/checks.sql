SELECT id, sku, specs IS NULL FROM products ORDER BY id;
