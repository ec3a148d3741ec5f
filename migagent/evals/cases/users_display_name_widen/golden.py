"""users.display_name: varchar(50) -> varchar(120)

Raising a varchar limit is catalog-only (no rewrite, no index rebuild); it
still needs ACCESS EXCLUSIVE briefly. Narrowing it back in the downgrade
rewrites the table and truncates longer names.
"""

import sqlalchemy as sa
from alembic import op

revision = "b2f0c0de0018"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("users", "display_name", type_=sa.String(120), existing_type=sa.String(50))


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column(
        "users",
        "display_name",
        type_=sa.String(50),
        existing_type=sa.String(120),
        postgresql_using="display_name::varchar(50)",
    )
