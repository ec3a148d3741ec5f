"""rename tickets.assignee to assignee_id

Catalog-only; the FK and the index follow the column.
"""

from alembic import op

revision = "f6f0c0de0049"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE tickets RENAME COLUMN assignee TO assignee_id")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE tickets RENAME COLUMN assignee_id TO assignee")
