SELECT id, document::text FROM kb_articles ORDER BY id;
SELECT id, ts_rank(document, to_tsquery('simple', 'billing | export'))::numeric(10, 6) FROM kb_articles WHERE document @@ to_tsquery('simple', 'billing | export') ORDER BY id;
