"""accounts.is_verified boolean NOT NULL DEFAULT false"""

import sqlalchemy as sa
from alembic import op

revision = "e5f0c0de0044"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column(
        "accounts",
        sa.Column("is_verified", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("accounts", "is_verified")
