"""tickets.priority as enum ticket_priority

A constant default makes ADD COLUMN ... NOT NULL DEFAULT catalog-only.
"""

from alembic import op

revision = "c3f0c0de0030"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE TYPE ticket_priority AS ENUM ('low', 'normal', 'high', 'urgent')")
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE tickets ADD COLUMN priority ticket_priority NOT NULL DEFAULT 'normal'")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE tickets DROP COLUMN priority")
    op.execute("DROP TYPE ticket_priority")
