"""memberships.status DEFAULT 'active' (catalog-only: existing rows untouched)"""

import sqlalchemy as sa
from alembic import op

revision = "7e5c0de00015"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("memberships", "status", server_default=sa.text("'active'"))


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("memberships", "status", server_default=None)
