"""accounts.plan defaults to 'free'

SET DEFAULT only changes the catalog (existing rows keep their plan); the
short ACCESS EXCLUSIVE lock is bounded by lock_timeout.
"""

from alembic import op

revision = "5aa5c0de0003"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE accounts ALTER COLUMN plan SET DEFAULT 'free'")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE accounts ALTER COLUMN plan DROP DEFAULT")
