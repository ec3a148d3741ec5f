"""cards.is_frozen boolean NOT NULL DEFAULT false

A constant default is stored in the catalog (PostgreSQL 11+): no rewrite, so
NOT NULL DEFAULT false is safe on 5M rows under a short lock.
"""

import sqlalchemy as sa
from alembic import op

revision = "e1a0c0de0102"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column(
        "cards",
        sa.Column("is_frozen", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("cards", "is_frozen")
