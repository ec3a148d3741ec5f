SELECT id, isbn, title FROM books ORDER BY id;
SELECT id, card_number, name FROM members ORDER BY id;
