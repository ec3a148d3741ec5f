"""drop the default of invoices.due_date"""

import sqlalchemy as sa
from alembic import op

revision = "b2f0c0de0016"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("invoices", "due_date", server_default=None)


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("invoices", "due_date", server_default=sa.text("(CURRENT_DATE + 30)"))
