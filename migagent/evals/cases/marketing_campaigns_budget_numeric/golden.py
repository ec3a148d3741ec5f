"""campaigns.budget text -> numeric(12,2) USING a cast

campaigns has ~8k rows, so the rewrite under ACCESS EXCLUSIVE is brief.
A budget that is not a number makes the cast fail and the migration roll back.
"""

import sqlalchemy as sa
from alembic import op

revision = "e1a0c0de0107"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column(
        "campaigns",
        "budget",
        type_=sa.Numeric(12, 2),
        existing_type=sa.Text(),
        existing_nullable=False,
        postgresql_using="budget::numeric(12,2)",
    )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column(
        "campaigns",
        "budget",
        type_=sa.Text(),
        existing_type=sa.Numeric(12, 2),
        existing_nullable=False,
        postgresql_using="budget::text",
    )
