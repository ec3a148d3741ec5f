"""drop staff.iban and staff.bic

DROP COLUMN only marks the columns dropped (no rewrite). The downgrade brings
them back empty: the bank details are gone, which is the point.
"""

import sqlalchemy as sa
from alembic import op

revision = "f2e0c0de0204"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("staff", "iban")
    op.drop_column("staff", "bic")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("staff", sa.Column("iban", sa.String(34), nullable=True))
    op.add_column("staff", sa.Column("bic", sa.String(11), nullable=True))
