"""policies.number NOT NULL, NULLs backfilled with 'PENDING'

1. backfill the NULL numbers in committed id-range batches;
2. NOT NULL through a CHECK added NOT VALID and validated without blocking
   writes, then SET NOT NULL (no scan thanks to the check) and drop the check.
The downgrade only drops NOT NULL: which rows were NULL is not recorded.
"""

import sqlalchemy as sa
from alembic import op

revision = "1a50c0de0003"
down_revision = None
branch_labels = None
depends_on = None

BATCH = 20_000


def upgrade():
    with op.get_context().autocommit_block():
        bind = op.get_bind()
        lo, hi = bind.execute(sa.text("SELECT min(id), max(id) FROM policies")).one()
        if lo is not None:
            for start in range(lo, hi + 1, BATCH):
                bind.execute(
                    sa.text(
                        "UPDATE policies SET number = 'PENDING' "
                        "WHERE id >= :lo AND id < :hi AND number IS NULL"
                    ),
                    {"lo": start, "hi": start + BATCH},
                )

    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE policies ADD CONSTRAINT policies_number_not_null_chk "
        "CHECK (number IS NOT NULL) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE policies VALIDATE CONSTRAINT policies_number_not_null_chk")
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE policies ALTER COLUMN number SET NOT NULL")
    op.execute("ALTER TABLE policies DROP CONSTRAINT policies_number_not_null_chk")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE policies ALTER COLUMN number DROP NOT NULL")
