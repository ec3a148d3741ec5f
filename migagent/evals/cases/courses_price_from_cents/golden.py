"""courses.price = price_cents / 100.0

20k rows: add the column (catalog-only) and fill it with one UPDATE, a
fraction of a second. Nullable, as asked (no NOT NULL, no default).
"""

import sqlalchemy as sa
from alembic import op

revision = "f6e0c0de0602"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("courses", sa.Column("price", sa.Numeric(10, 2), nullable=True))
    op.execute("UPDATE courses SET price = price_cents / 100.0")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("courses", "price")
