"""leads.stage DEFAULT 'new' (catalog-only; existing rows untouched)"""

import sqlalchemy as sa
from alembic import op

revision = "e1a0c0de0106"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("leads", "stage", server_default=sa.text("'new'"), existing_type=sa.Text())


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("leads", "stage", server_default=None, existing_type=sa.Text())
