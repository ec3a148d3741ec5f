"""subscribers.email_domain = split_part(email, '@', 2), backfilled and indexed

Add nullable (not asked to be required), backfill in committed batches, then
build the index CONCURRENTLY.
"""

import sqlalchemy as sa
from alembic import op

revision = "e1a0c0de0201"
down_revision = None
branch_labels = None
depends_on = None

BATCH = 20_000


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("subscribers", sa.Column("email_domain", sa.Text(), nullable=True))

    with op.get_context().autocommit_block():
        bind = op.get_bind()
        lo, hi = bind.execute(sa.text("SELECT min(id), max(id) FROM subscribers")).one()
        if lo is not None:
            for start in range(lo, hi + 1, BATCH):
                bind.execute(
                    sa.text(
                        "UPDATE subscribers SET email_domain = split_part(email, '@', 2) "
                        "WHERE id >= :lo AND id < :hi AND email_domain IS NULL"
                    ),
                    {"lo": start, "hi": start + BATCH},
                )

    with op.get_context().autocommit_block():
        op.create_index(
            "subscribers_email_domain_idx",
            "subscribers",
            ["email_domain"],
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index(
            "subscribers_email_domain_idx", table_name="subscribers", postgresql_concurrently=True
        )
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("subscribers", "email_domain")
