"""flights.departed_at timestamptz, nullable (unknown until the flight leaves)"""

import sqlalchemy as sa
from alembic import op

revision = "e1a0c0de0105"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("flights", sa.Column("departed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("flights", "departed_at")
