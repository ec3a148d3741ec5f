"""UNIQUE constraint on users.username

Build the unique index CONCURRENTLY, then attach it as the constraint
(ADD CONSTRAINT ... UNIQUE USING INDEX renames it and takes only a brief lock).
The existing plain index stays: the request does not ask to drop it.
"""

from alembic import op

revision = "c3f0c0de0029"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.execute("CREATE UNIQUE INDEX CONCURRENTLY users_username_key ON users (username)")
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE users ADD CONSTRAINT users_username_key UNIQUE USING INDEX users_username_key"
    )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE users DROP CONSTRAINT users_username_key")
