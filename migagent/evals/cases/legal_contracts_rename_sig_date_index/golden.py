"""contracts.sig_date -> signed_on, plus an index on it

The rename is catalog-only (brief lock, bounded by lock_timeout); the index
is built CONCURRENTLY on 1.8M rows.
"""

from alembic import op

revision = "1e9ac0de0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("contracts", "sig_date", new_column_name="signed_on")
    with op.get_context().autocommit_block():
        op.execute("CREATE INDEX CONCURRENTLY contracts_signed_on_idx ON contracts (signed_on)")


def downgrade():
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS contracts_signed_on_idx")
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("contracts", "signed_on", new_column_name="sig_date")
