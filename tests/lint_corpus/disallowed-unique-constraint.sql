ALTER TABLE orders ADD CONSTRAINT orders_number_key UNIQUE (number);
