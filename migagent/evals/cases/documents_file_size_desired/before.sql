CREATE TABLE documents (
    id UUID PRIMARY KEY,
    title VARCHAR(255) NOT NULL,
    version VARCHAR(50) NOT NULL
);

INSERT INTO documents (id, title, version)
SELECT md5('document-' || g)::uuid, 'Document ' || g, '1.' || g
FROM generate_series(1, 5) AS g;
