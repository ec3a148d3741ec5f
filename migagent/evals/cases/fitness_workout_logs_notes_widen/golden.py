"""workout_logs.notes varchar(255) -> varchar(1000)

Raising a varchar limit is catalog-only: no rewrite, no index rebuild.
The downgrade truncates notes longer than 255 characters.
"""

import sqlalchemy as sa
from alembic import op

revision = "7e5c0de00016"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column(
        "workout_logs",
        "notes",
        type_=sa.String(1000),
        existing_type=sa.String(255),
        existing_nullable=True,
    )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column(
        "workout_logs",
        "notes",
        type_=sa.String(255),
        existing_type=sa.String(1000),
        existing_nullable=True,
        postgresql_using="left(notes, 255)::varchar(255)",
    )
