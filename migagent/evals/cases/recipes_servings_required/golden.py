"""recipes.servings: fill NULLs with 4, then NOT NULL

1. backfill in committed id-range batches (no long row locks on 900k rows);
2. NOT NULL through a CHECK added NOT VALID, validated without blocking
   writes, then SET NOT NULL (no scan thanks to the check) and drop the check.
"""

import sqlalchemy as sa
from alembic import op

revision = "f4e0c0de0402"
down_revision = None
branch_labels = None
depends_on = None

BATCH = 20_000


def upgrade():
    with op.get_context().autocommit_block():
        bind = op.get_bind()
        lo, hi = bind.execute(sa.text("SELECT min(id), max(id) FROM recipes")).one()
        if lo is not None:
            for start in range(lo, hi + 1, BATCH):
                bind.execute(
                    sa.text(
                        "UPDATE recipes SET servings = 4 "
                        "WHERE id >= :lo AND id < :hi AND servings IS NULL"
                    ),
                    {"lo": start, "hi": start + BATCH},
                )

    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE recipes ADD CONSTRAINT recipes_servings_not_null_chk "
        "CHECK (servings IS NOT NULL) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE recipes VALIDATE CONSTRAINT recipes_servings_not_null_chk")
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE recipes ALTER COLUMN servings SET NOT NULL")
    op.execute("ALTER TABLE recipes DROP CONSTRAINT recipes_servings_not_null_chk")


def downgrade():
    # The filled-in 4s stay: they cannot be told apart from real ones.
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE recipes ALTER COLUMN servings DROP NOT NULL")
