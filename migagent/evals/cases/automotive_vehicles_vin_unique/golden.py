"""UNIQUE constraint on vehicles.vin

Build the unique index CONCURRENTLY, then attach it as the constraint
(ADD CONSTRAINT ... UNIQUE USING INDEX takes only a brief lock).
"""

from alembic import op

revision = "7e5c0de00009"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.execute("CREATE UNIQUE INDEX CONCURRENTLY vehicles_vin_key ON vehicles (vin)")
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE vehicles ADD CONSTRAINT vehicles_vin_key UNIQUE USING INDEX vehicles_vin_key"
    )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE vehicles DROP CONSTRAINT vehicles_vin_key")
