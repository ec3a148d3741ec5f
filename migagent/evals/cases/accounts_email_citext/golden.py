"""accounts.email -> citext

varchar -> citext needs no table rewrite, but the unique index is rebuilt
under the ACCESS EXCLUSIVE lock: fine at 40k rows, under a lock timeout.
"""

from alembic import op

revision = "a1f0c0de0007"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE EXTENSION IF NOT EXISTS citext")
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE accounts ALTER COLUMN email TYPE citext")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE accounts ALTER COLUMN email TYPE varchar(255) USING email::varchar(255)"
    )
    op.execute("DROP EXTENSION IF EXISTS citext")
