"""rooms.is_accessible: boolean NOT NULL DEFAULT false (catalog-only since PG 11)"""

import sqlalchemy as sa
from alembic import op

revision = "7e5c0de00003"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column(
        "rooms",
        sa.Column("is_accessible", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("rooms", "is_accessible")
