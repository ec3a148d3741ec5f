"""add posts.published_at"""

import sqlalchemy as sa
from alembic import op

revision = "a1f0c0de0008"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("posts", sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("posts", "published_at")
