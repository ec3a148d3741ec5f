"""split employees.full_name into first_name / last_name

Expand step only: full_name stays. The backfill runs in id-range batches,
each committed on its own, so no long transaction holds row locks.
"""

import sqlalchemy as sa
from alembic import op

revision = "d4f0c0de0034"
down_revision = None
branch_labels = None
depends_on = None

BATCH = 10_000


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("employees", sa.Column("first_name", sa.Text(), nullable=True))
    op.add_column("employees", sa.Column("last_name", sa.Text(), nullable=True))

    with op.get_context().autocommit_block():
        bind = op.get_bind()
        lo, hi = bind.execute(sa.text("SELECT min(id), max(id) FROM employees")).one()
        if lo is None:
            return
        for start in range(lo, hi + 1, BATCH):
            bind.execute(
                sa.text(
                    """
                    UPDATE employees
                    SET first_name = split_part(full_name, ' ', 1),
                        last_name = CASE WHEN strpos(full_name, ' ') > 0
                                         THEN substr(full_name, strpos(full_name, ' ') + 1)
                                    END
                    WHERE id >= :lo AND id < :hi
                    """
                ),
                {"lo": start, "hi": start + BATCH},
            )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("employees", "last_name")
    op.drop_column("employees", "first_name")
