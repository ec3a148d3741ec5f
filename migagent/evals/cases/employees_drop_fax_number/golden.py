"""drop employees.fax_number

DROP COLUMN only marks the column dropped (no rewrite). The downgrade brings
the column back empty: its data is gone.
"""

import sqlalchemy as sa
from alembic import op

revision = "a1f0c0de0010"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("employees", "fax_number")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("employees", sa.Column("fax_number", sa.String(30), nullable=True))
