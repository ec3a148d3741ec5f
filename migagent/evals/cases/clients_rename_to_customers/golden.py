"""rename table clients to customers

RENAME is catalog-only, but it needs ACCESS EXCLUSIVE on a busy table: keep
the wait for it short.
"""

from alembic import op

revision = "b2f0c0de0012"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.rename_table("clients", "customers")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.rename_table("customers", "clients")
