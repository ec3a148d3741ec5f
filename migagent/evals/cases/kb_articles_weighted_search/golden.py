"""weighted full-text search on kb_articles

Adding a STORED generated column rewrites the table: acceptable at 20k rows
under a lock timeout. The GIN index is built CONCURRENTLY.
"""

from alembic import op

revision = "f6f0c0de0053"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        """
        ALTER TABLE kb_articles
        ADD COLUMN document tsvector
        GENERATED ALWAYS AS (
            setweight(to_tsvector('simple', coalesce(title, '')), 'A')
            || setweight(to_tsvector('simple', coalesce(body, '')), 'B')
        ) STORED
        """
    )
    with op.get_context().autocommit_block():
        op.execute(
            "CREATE INDEX CONCURRENTLY kb_articles_document_idx ON kb_articles USING gin (document)"
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY kb_articles_document_idx")
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE kb_articles DROP COLUMN document")
