"""bookings.event_starts_at, copied from events.starts_at

Add the column (catalog-only), then copy the start times over in committed
id-range batches so no single transaction locks millions of bookings.
"""

import sqlalchemy as sa
from alembic import op

revision = "f3e0c0de0304"
down_revision = None
branch_labels = None
depends_on = None

BATCH = 20_000


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column(
        "bookings", sa.Column("event_starts_at", sa.DateTime(timezone=True), nullable=True)
    )

    with op.get_context().autocommit_block():
        bind = op.get_bind()
        lo, hi = bind.execute(sa.text("SELECT min(id), max(id) FROM bookings")).one()
        if lo is None:
            return
        for start in range(lo, hi + 1, BATCH):
            bind.execute(
                sa.text(
                    """
                    UPDATE bookings AS b
                    SET event_starts_at = e.starts_at
                    FROM events AS e
                    WHERE e.id = b.event_id
                      AND b.id >= :lo AND b.id < :hi
                      AND b.event_starts_at IS DISTINCT FROM e.starts_at
                    """
                ),
                {"lo": start, "hi": start + BATCH},
            )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("bookings", "event_starts_at")
