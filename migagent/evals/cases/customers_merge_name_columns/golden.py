"""merge customers.first_name + last_name into full_name

Add the column, backfill it in batches, then drop the old columns. The
downgrade splits full_name back on its first space; names that contained
spaces of their own do not round-trip exactly.
"""

import sqlalchemy as sa
from alembic import op

revision = "d4f0c0de0035"
down_revision = None
branch_labels = None
depends_on = None

BATCH = 10_000


def _batched(sql):
    bind = op.get_bind()
    lo, hi = bind.execute(sa.text("SELECT min(id), max(id) FROM customers")).one()
    if lo is None:
        return
    for start in range(lo, hi + 1, BATCH):
        bind.execute(sa.text(sql), {"lo": start, "hi": start + BATCH})


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("customers", sa.Column("full_name", sa.Text(), nullable=True))
    with op.get_context().autocommit_block():
        _batched(
            "UPDATE customers SET full_name = NULLIF(concat_ws(' ', first_name, last_name), '') "
            "WHERE id >= :lo AND id < :hi"
        )
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("customers", "first_name")
    op.drop_column("customers", "last_name")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("customers", sa.Column("first_name", sa.Text(), nullable=True))
    op.add_column("customers", sa.Column("last_name", sa.Text(), nullable=True))
    with op.get_context().autocommit_block():
        _batched(
            """
            UPDATE customers
            SET first_name = split_part(full_name, ' ', 1),
                last_name = NULLIF(substr(full_name, strpos(full_name, ' ') + 1), full_name)
            WHERE id >= :lo AND id < :hi
            """
        )
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("customers", "full_name")
