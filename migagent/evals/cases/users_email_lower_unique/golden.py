"""unique index on lower(users.email)

An expression cannot back a UNIQUE constraint, so this is a unique index,
built CONCURRENTLY on a large table.
"""

import sqlalchemy as sa
from alembic import op

revision = "a1f0c0de0006"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "users_email_lower_key",
            "users",
            [sa.text("lower(email)")],
            unique=True,
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index("users_email_lower_key", table_name="users", postgresql_concurrently=True)
