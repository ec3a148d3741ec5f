SELECT i.id, p.sku FROM order_items i JOIN products p ON p.id = i.product_id ORDER BY i.id;
