"""shipments.carrier_ref: DROP NOT NULL

Dropping NOT NULL is catalog-only. The downgrade puts it back the online way:
a CHECK added NOT VALID, validated without blocking writes, then SET NOT NULL
(no scan thanks to the check) and the check dropped.
"""

from alembic import op

revision = "e1a0c0de0101"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE shipments ALTER COLUMN carrier_ref DROP NOT NULL")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE shipments ADD CONSTRAINT shipments_carrier_ref_not_null_chk "
        "CHECK (carrier_ref IS NOT NULL) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE shipments VALIDATE CONSTRAINT shipments_carrier_ref_not_null_chk")
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE shipments ALTER COLUMN carrier_ref SET NOT NULL")
    op.execute("ALTER TABLE shipments DROP CONSTRAINT shipments_carrier_ref_not_null_chk")
