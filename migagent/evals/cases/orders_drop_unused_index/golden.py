"""drop orders_legacy_status_idx

DROP INDEX CONCURRENTLY does not block reads or writes on orders; the
downgrade rebuilds the index CONCURRENTLY.
"""

from alembic import op

revision = "f6f0c0de0050"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS orders_legacy_status_idx")


def downgrade():
    with op.get_context().autocommit_block():
        op.execute(
            "CREATE INDEX CONCURRENTLY orders_legacy_status_idx ON orders (status, created_at)"
        )
