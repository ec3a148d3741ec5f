"""supply_sites.has_solar boolean NOT NULL DEFAULT false

Constant default: catalog-only add; "assume none" is the default false.
"""

import sqlalchemy as sa
from alembic import op

revision = "4e1dc0de0002"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column(
        "supply_sites",
        sa.Column("has_solar", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("supply_sites", "has_solar")
