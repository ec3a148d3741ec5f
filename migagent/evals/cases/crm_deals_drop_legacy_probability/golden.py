"""drop deals.legacy_probability (catalog-only; the downgrade re-adds it empty)"""

import sqlalchemy as sa
from alembic import op

revision = "e1a0c0de0106"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("deals", "legacy_probability")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("deals", sa.Column("legacy_probability", sa.Numeric(5, 2), nullable=True))
