ALTER TABLE orders ALTER COLUMN number TYPE varchar(200);
