"""GIN index on cell_towers.capabilities for @> queries

The default jsonb_ops opclass serves @> and the key-existence operators
the planners will try next. Built CONCURRENTLY.
"""

from alembic import op

revision = "7e1ec0de0003"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.execute(
            "CREATE INDEX CONCURRENTLY cell_towers_capabilities_gin "
            "ON cell_towers USING gin (capabilities)"
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS cell_towers_capabilities_gin")
