"""bookings.currency char(3) NOT NULL DEFAULT 'EUR'

A constant default is stored in the catalog (PostgreSQL 11+), so this is no
rewrite even on 10M rows; only the short lock matters.
"""

import sqlalchemy as sa
from alembic import op

revision = "e1a0c0de0201"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column(
        "bookings",
        sa.Column("currency", sa.CHAR(3), nullable=False, server_default=sa.text("'EUR'")),
    )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("bookings", "currency")
