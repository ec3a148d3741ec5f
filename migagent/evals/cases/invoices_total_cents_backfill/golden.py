"""invoices.total_cents = subtotal_cents + tax_cents, NOT NULL

1. add the column nullable (catalog-only);
2. backfill in committed id-range batches;
3. NOT NULL through a CHECK added NOT VALID, validated without blocking
   writes, then SET NOT NULL (no scan thanks to the check) and drop the check.
"""

import sqlalchemy as sa
from alembic import op

revision = "d4f0c0de0038"
down_revision = None
branch_labels = None
depends_on = None

BATCH = 20_000


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("invoices", sa.Column("total_cents", sa.BigInteger(), nullable=True))

    with op.get_context().autocommit_block():
        bind = op.get_bind()
        lo, hi = bind.execute(sa.text("SELECT min(id), max(id) FROM invoices")).one()
        if lo is not None:
            for start in range(lo, hi + 1, BATCH):
                bind.execute(
                    sa.text(
                        "UPDATE invoices SET total_cents = subtotal_cents + tax_cents "
                        "WHERE id >= :lo AND id < :hi AND total_cents IS NULL"
                    ),
                    {"lo": start, "hi": start + BATCH},
                )

    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE invoices ADD CONSTRAINT invoices_total_cents_not_null_chk "
        "CHECK (total_cents IS NOT NULL) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE invoices VALIDATE CONSTRAINT invoices_total_cents_not_null_chk")
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE invoices ALTER COLUMN total_cents SET NOT NULL")
    op.execute("ALTER TABLE invoices DROP CONSTRAINT invoices_total_cents_not_null_chk")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("invoices", "total_cents")
