"""players.region: NULLs -> 'global', then NOT NULL

Backfill in committed id-range batches, then NOT NULL through a CHECK added
NOT VALID and validated online. The downgrade only drops NOT NULL (the
backfilled values stay).
"""

import sqlalchemy as sa
from alembic import op

revision = "e1a0c0de0201"
down_revision = None
branch_labels = None
depends_on = None

BATCH = 20_000


def upgrade():
    with op.get_context().autocommit_block():
        bind = op.get_bind()
        lo, hi = bind.execute(sa.text("SELECT min(id), max(id) FROM players")).one()
        if lo is not None:
            for start in range(lo, hi + 1, BATCH):
                bind.execute(
                    sa.text(
                        "UPDATE players SET region = 'global' "
                        "WHERE id >= :lo AND id < :hi AND region IS NULL"
                    ),
                    {"lo": start, "hi": start + BATCH},
                )

    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE players ADD CONSTRAINT players_region_not_null_chk "
        "CHECK (region IS NOT NULL) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE players VALIDATE CONSTRAINT players_region_not_null_chk")
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE players ALTER COLUMN region SET NOT NULL")
    op.execute("ALTER TABLE players DROP CONSTRAINT players_region_not_null_chk")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE players ALTER COLUMN region DROP NOT NULL")
