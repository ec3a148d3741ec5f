"""partial index: meters awaiting a reading, by route

Only status = 'awaiting_reading' rows are indexed, so the index stays a small
fraction of 4.8M rows. Built CONCURRENTLY.
"""

from alembic import op

revision = "e4e7c0de0002"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.execute(
            "CREATE INDEX CONCURRENTLY meters_route_id_awaiting_idx ON meters (route_id) "
            "WHERE status = 'awaiting_reading'"
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS meters_route_id_awaiting_idx")
