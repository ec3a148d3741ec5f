"""GIN index on cell_towers.capabilities for @> queries

Only containment is asked for, so jsonb_path_ops: it serves @> with a
smaller, faster index than the default jsonb_ops. Built CONCURRENTLY.
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
            "ON cell_towers USING gin (capabilities jsonb_path_ops)"
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS cell_towers_capabilities_gin")
