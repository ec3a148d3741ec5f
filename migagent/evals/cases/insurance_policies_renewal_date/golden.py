"""policies.renewal_date (date, nullable)

A calendar date, not a timestamp; existing policies have no renewal date yet,
so the column is nullable and the add is catalog-only.
"""

import sqlalchemy as sa
from alembic import op

revision = "1a50c0de0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("policies", sa.Column("renewal_date", sa.Date(), nullable=True))


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("policies", "renewal_date")
