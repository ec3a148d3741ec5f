"""trigram GIN index on case_notes.body

pg_trgm's gin_trgm_ops makes ILIKE '%...%' indexable; built CONCURRENTLY.
The downgrade drops the index and the extension it created.
"""

from alembic import op

revision = "1e9ac0de0003"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.get_context().autocommit_block():
        op.execute(
            "CREATE INDEX CONCURRENTLY case_notes_body_trgm_idx "
            "ON case_notes USING gin (body gin_trgm_ops)"
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS case_notes_body_trgm_idx")
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
