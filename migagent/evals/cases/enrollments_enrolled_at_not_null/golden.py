"""LMS-204: enrollments.enrolled_at = created_at where NULL, then NOT NULL

1. backfill in committed id-range batches (no long row locks on 3M rows);
2. NOT NULL through a CHECK added NOT VALID, validated without blocking
   writes, then SET NOT NULL (no scan thanks to the check) and drop the check.
"""

import sqlalchemy as sa
from alembic import op

revision = "f6e0c0de0603"
down_revision = None
branch_labels = None
depends_on = None

BATCH = 20_000


def upgrade():
    with op.get_context().autocommit_block():
        bind = op.get_bind()
        lo, hi = bind.execute(sa.text("SELECT min(id), max(id) FROM enrollments")).one()
        if lo is not None:
            for start in range(lo, hi + 1, BATCH):
                bind.execute(
                    sa.text(
                        "UPDATE enrollments SET enrolled_at = created_at "
                        "WHERE id >= :lo AND id < :hi AND enrolled_at IS NULL"
                    ),
                    {"lo": start, "hi": start + BATCH},
                )

    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE enrollments ADD CONSTRAINT enrollments_enrolled_at_not_null_chk "
        "CHECK (enrolled_at IS NOT NULL) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute(
            "ALTER TABLE enrollments VALIDATE CONSTRAINT enrollments_enrolled_at_not_null_chk"
        )
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE enrollments ALTER COLUMN enrolled_at SET NOT NULL")
    op.execute("ALTER TABLE enrollments DROP CONSTRAINT enrollments_enrolled_at_not_null_chk")


def downgrade():
    # The copied timestamps stay: they cannot be told apart from real ones.
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE enrollments ALTER COLUMN enrolled_at DROP NOT NULL")
