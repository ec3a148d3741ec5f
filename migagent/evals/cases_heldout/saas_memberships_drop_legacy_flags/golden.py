"""drop memberships.legacy_flags

DROP COLUMN only marks the column dropped. The downgrade re-adds it empty.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "4e1dc0de0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("memberships", "legacy_flags")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("memberships", sa.Column("legacy_flags", postgresql.JSONB(), nullable=True))
