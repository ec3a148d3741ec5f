"""trips.distance_km = distance_m / 1000.0, backfilled

1. add the column nullable (catalog-only);
2. backfill in committed id-range batches so no transaction holds row locks
   on millions of trips; trips without distance_m keep a null distance_km.
"""

import sqlalchemy as sa
from alembic import op

revision = "f1e0c0de0102"
down_revision = None
branch_labels = None
depends_on = None

BATCH = 20_000


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("trips", sa.Column("distance_km", sa.Numeric(10, 3), nullable=True))

    with op.get_context().autocommit_block():
        bind = op.get_bind()
        lo, hi = bind.execute(sa.text("SELECT min(id), max(id) FROM trips")).one()
        if lo is None:
            return
        for start in range(lo, hi + 1, BATCH):
            bind.execute(
                sa.text(
                    "UPDATE trips SET distance_km = distance_m / 1000.0 "
                    "WHERE id >= :lo AND id < :hi "
                    "AND distance_m IS NOT NULL AND distance_km IS NULL"
                ),
                {"lo": start, "hi": start + BATCH},
            )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("trips", "distance_km")
