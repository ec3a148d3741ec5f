"""default tickets.status to 'open'

Defaults are catalog-only; the ALTER still queues behind long transactions,
hence the lock timeout.
"""

import sqlalchemy as sa
from alembic import op

revision = "b2f0c0de0015"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("tickets", "status", server_default=sa.text("'open'"))


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("tickets", "status", server_default=None)
