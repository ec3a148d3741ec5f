"""warehouses.region: a new nullable text column (catalog-only change)"""

import sqlalchemy as sa
from alembic import op

revision = "e1a0c0de0101"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("warehouses", sa.Column("region", sa.Text(), nullable=True))


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("warehouses", "region")
