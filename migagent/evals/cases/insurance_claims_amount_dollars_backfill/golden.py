"""claims.amount_dollars numeric(12,2), backfilled from amount_cents

Add the column nullable (catalog-only), then fill it in committed id-range
batches so 6.5M rows are never locked in one transaction. The request does
not ask for NOT NULL, so the column stays nullable.
"""

import sqlalchemy as sa
from alembic import op

revision = "1a50c0de0002"
down_revision = None
branch_labels = None
depends_on = None

BATCH = 20_000


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("claims", sa.Column("amount_dollars", sa.Numeric(12, 2), nullable=True))

    with op.get_context().autocommit_block():
        bind = op.get_bind()
        lo, hi = bind.execute(sa.text("SELECT min(id), max(id) FROM claims")).one()
        if lo is not None:
            for start in range(lo, hi + 1, BATCH):
                bind.execute(
                    sa.text(
                        "UPDATE claims SET amount_dollars = amount_cents / 100.0 "
                        "WHERE id >= :lo AND id < :hi AND amount_dollars IS NULL"
                    ),
                    {"lo": start, "hi": start + BATCH},
                )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("claims", "amount_dollars")
