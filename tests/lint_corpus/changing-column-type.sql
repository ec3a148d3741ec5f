ALTER TABLE orders ALTER COLUMN total TYPE bigint;
