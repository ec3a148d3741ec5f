"""titles.is_explicit boolean NOT NULL DEFAULT false

A constant default makes the add catalog-only (no rewrite) on PG 11+, and a
flag is either set or not: NOT NULL, false until content review sets it.
"""

import sqlalchemy as sa
from alembic import op

revision = "57e4c0de0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column(
        "titles",
        sa.Column("is_explicit", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("titles", "is_explicit")
