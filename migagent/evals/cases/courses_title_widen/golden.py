"""courses.title: varchar(100) -> varchar(255)

Raising a varchar limit is catalog-only (no rewrite, no index rebuild); it
still takes ACCESS EXCLUSIVE briefly, hence the lock timeout. Narrowing it
back in the downgrade truncates longer titles.
"""

import sqlalchemy as sa
from alembic import op

revision = "f6e0c0de0601"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column(
        "courses",
        "title",
        type_=sa.String(255),
        existing_type=sa.String(100),
        existing_nullable=False,
    )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column(
        "courses",
        "title",
        type_=sa.String(100),
        existing_type=sa.String(255),
        existing_nullable=False,
        postgresql_using="title::varchar(100)",
    )
