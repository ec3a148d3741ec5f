"""tickets.subject: text -> varchar(200), truncating longer subjects

text -> varchar(n) rewrites the table under ACCESS EXCLUSIVE; at 8k rows that
is a fraction of a second. The USING clause truncates in the same pass.
"""

import sqlalchemy as sa
from alembic import op

revision = "b2f0c0de0020"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column(
        "tickets",
        "subject",
        type_=sa.String(200),
        existing_type=sa.Text(),
        existing_nullable=False,
        postgresql_using="left(subject, 200)::varchar(200)",
    )


def downgrade():
    # The truncated tails are gone for good.
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column(
        "tickets", "subject", type_=sa.Text(), existing_type=sa.String(200), existing_nullable=False
    )
