"""devices.carrier DROP NOT NULL

Catalog-only. The downgrade's SET NOT NULL would scan 9.5M rows under
ACCESS EXCLUSIVE, so it goes through a validated CHECK (and fails if NULL
carriers have appeared since).
"""

from alembic import op

revision = "7e1ec0de0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("devices", "carrier", nullable=True)


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE devices ADD CONSTRAINT devices_carrier_not_null_chk "
        "CHECK (carrier IS NOT NULL) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE devices VALIDATE CONSTRAINT devices_carrier_not_null_chk")
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("devices", "carrier", nullable=False)
    op.execute("ALTER TABLE devices DROP CONSTRAINT devices_carrier_not_null_chk")
