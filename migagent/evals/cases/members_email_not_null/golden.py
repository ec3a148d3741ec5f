"""members.email NOT NULL

300 rows: the full-table check under SET NOT NULL is instant, so the plain
form (with a lock timeout) is fine here.
"""

from alembic import op

revision = "e5f0c0de0045"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("members", "email", nullable=False)


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("members", "email", nullable=True)
