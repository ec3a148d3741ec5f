"""BRIN index on feeder_readings(read_at)

The table is append-only in read_at order, which is where BRIN shines: a
few hundred kB instead of a multi-GB btree. Built CONCURRENTLY.
"""

from alembic import op

revision = "e4e7c0de0003"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.execute(
            "CREATE INDEX CONCURRENTLY feeder_readings_read_at_brin "
            "ON feeder_readings USING brin (read_at)"
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS feeder_readings_read_at_brin")
