"""trigram GIN index on athletes.full_name for ILIKE '%q%'

A btree cannot serve a leading wildcard; pg_trgm's gin_trgm_ops can. The
extension is created here, so the downgrade drops it.
"""

from alembic import op

revision = "e1a0c0de0104"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.get_context().autocommit_block():
        op.create_index(
            "athletes_full_name_trgm_idx",
            "athletes",
            ["full_name"],
            postgresql_using="gin",
            postgresql_ops={"full_name": "gin_trgm_ops"},
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index(
            "athletes_full_name_trgm_idx", table_name="athletes", postgresql_concurrently=True
        )
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
