"""add documents.file_size

Nullable column without a default: a catalog-only change, no rewrite.
"""

import sqlalchemy as sa
from alembic import op

revision = "a1f0c0de0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("documents", sa.Column("file_size", sa.BigInteger(), nullable=True))


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("documents", "file_size")
