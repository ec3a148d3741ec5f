"""tickets.status: messy text -> enum ticket_status

1. create the type;
2. normalise the text in committed batches (lower, trim, spaces -> _);
3. convert the column (a rewrite of 15k rows, brief at this size).
"""

import sqlalchemy as sa
from alembic import op

revision = "d4f0c0de0037"
down_revision = None
branch_labels = None
depends_on = None

BATCH = 5_000
NORMALISED = "replace(lower(btrim(status)), ' ', '_')"


def upgrade():
    op.execute("CREATE TYPE ticket_status AS ENUM ('open', 'in_progress', 'closed')")
    with op.get_context().autocommit_block():
        bind = op.get_bind()
        lo, hi = bind.execute(sa.text("SELECT min(id), max(id) FROM tickets")).one()
        if lo is not None:
            for start in range(lo, hi + 1, BATCH):
                bind.execute(
                    sa.text(
                        f"UPDATE tickets SET status = {NORMALISED} "
                        f"WHERE id >= :lo AND id < :hi AND status <> {NORMALISED}"
                    ),
                    {"lo": start, "hi": start + BATCH},
                )
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE tickets ALTER COLUMN status DROP DEFAULT")
    op.execute(
        "ALTER TABLE tickets ALTER COLUMN status TYPE ticket_status USING status::ticket_status"
    )
    op.execute("ALTER TABLE tickets ALTER COLUMN status SET DEFAULT 'open'")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE tickets ALTER COLUMN status DROP DEFAULT")
    op.execute("ALTER TABLE tickets ALTER COLUMN status TYPE text USING status::text")
    op.execute("ALTER TABLE tickets ALTER COLUMN status SET DEFAULT 'open'")
    op.execute("DROP TYPE ticket_status")
