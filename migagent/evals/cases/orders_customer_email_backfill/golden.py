"""orders.customer_email, backfilled from customers.email

Add the column (catalog-only), then copy emails over in committed id-range
batches so no single transaction locks millions of order rows.
"""

import sqlalchemy as sa
from alembic import op

revision = "d4f0c0de0039"
down_revision = None
branch_labels = None
depends_on = None

BATCH = 20_000


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("orders", sa.Column("customer_email", sa.Text(), nullable=True))

    with op.get_context().autocommit_block():
        bind = op.get_bind()
        lo, hi = bind.execute(sa.text("SELECT min(id), max(id) FROM orders")).one()
        if lo is None:
            return
        for start in range(lo, hi + 1, BATCH):
            bind.execute(
                sa.text(
                    """
                    UPDATE orders AS o
                    SET customer_email = c.email
                    FROM customers AS c
                    WHERE c.id = o.customer_id
                      AND o.id >= :lo AND o.id < :hi
                      AND o.customer_email IS DISTINCT FROM c.email
                    """
                ),
                {"lo": start, "hi": start + BATCH},
            )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("orders", "customer_email")
