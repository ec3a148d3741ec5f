"""leases.monthly_rent = monthly_rent_cents / 100.0, NOT NULL

Add nullable, backfill in committed id-range batches, then NOT NULL through a
CHECK added NOT VALID and validated online.
"""

import sqlalchemy as sa
from alembic import op

revision = "e1a0c0de0201"
down_revision = None
branch_labels = None
depends_on = None

BATCH = 20_000


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("leases", sa.Column("monthly_rent", sa.Numeric(12, 2), nullable=True))

    with op.get_context().autocommit_block():
        bind = op.get_bind()
        lo, hi = bind.execute(sa.text("SELECT min(id), max(id) FROM leases")).one()
        if lo is not None:
            for start in range(lo, hi + 1, BATCH):
                bind.execute(
                    sa.text(
                        "UPDATE leases SET monthly_rent = monthly_rent_cents / 100.0 "
                        "WHERE id >= :lo AND id < :hi AND monthly_rent IS NULL"
                    ),
                    {"lo": start, "hi": start + BATCH},
                )

    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE leases ADD CONSTRAINT leases_monthly_rent_not_null_chk "
        "CHECK (monthly_rent IS NOT NULL) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE leases VALIDATE CONSTRAINT leases_monthly_rent_not_null_chk")
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE leases ALTER COLUMN monthly_rent SET NOT NULL")
    op.execute("ALTER TABLE leases DROP CONSTRAINT leases_monthly_rent_not_null_chk")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("leases", "monthly_rent")
