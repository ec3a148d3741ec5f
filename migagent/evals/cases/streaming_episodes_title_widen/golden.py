"""episodes.title varchar(80) -> varchar(200)

Raising a varchar limit is catalog-only: no rewrite, no index rebuild.
The downgrade truncates names longer than 80 characters.
"""

import sqlalchemy as sa
from alembic import op

revision = "57e4c0de0002"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column(
        "episodes",
        "title",
        type_=sa.String(200),
        existing_type=sa.String(80),
        existing_nullable=False,
    )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column(
        "episodes",
        "title",
        type_=sa.String(80),
        existing_type=sa.String(200),
        existing_nullable=False,
        postgresql_using="left(title, 80)::varchar(80)",
    )
