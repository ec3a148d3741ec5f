"""drop donors.fax_number (catalog-only); the downgrade re-adds it empty"""

import sqlalchemy as sa
from alembic import op

revision = "7e5c0de00008"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("donors", "fax_number")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("donors", sa.Column("fax_number", sa.String(32), nullable=True))
