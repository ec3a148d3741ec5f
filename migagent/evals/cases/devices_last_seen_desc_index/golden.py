"""index devices (last_seen_at DESC NULLS LAST)

A backward scan of an ASC index gives DESC NULLS FIRST, not NULLS LAST, so
the index states the ordering explicitly. Built CONCURRENTLY.
"""

from alembic import op

revision = "f6f0c0de0054"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.execute(
            "CREATE INDEX CONCURRENTLY devices_last_seen_at_idx "
            "ON devices (last_seen_at DESC NULLS LAST)"
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY devices_last_seen_at_idx")
