"""add full-text search to sections

The STORED generated column rewrites the table, which is acceptable at this
size under a lock timeout; the GIN index is built CONCURRENTLY.
"""

from alembic import op

revision = "a1f0c0de0002"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        """
        ALTER TABLE sections
        ADD COLUMN search_vector tsvector
        GENERATED ALWAYS AS (
            to_tsvector('english', coalesce(title, '') || ' ' || coalesce(content, ''))
        ) STORED
        """
    )
    with op.get_context().autocommit_block():
        op.create_index(
            "idx_sections_fts",
            "sections",
            ["search_vector"],
            postgresql_using="gin",
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index("idx_sections_fts", table_name="sections", postgresql_concurrently=True)
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("sections", "search_vector")
