"""court_deadlines.due_on: text -> date

7,000 rows: the rewrite under ALTER TYPE ... USING is instant. A value that
is not a date makes the upgrade fail (and roll back) rather than lose it.
"""

import sqlalchemy as sa
from alembic import op

revision = "4e1dc0de0003"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column(
        "court_deadlines",
        "due_on",
        type_=sa.Date(),
        existing_type=sa.Text(),
        existing_nullable=False,
        postgresql_using="to_date(due_on, 'YYYY-MM-DD')",
    )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column(
        "court_deadlines",
        "due_on",
        type_=sa.Text(),
        existing_type=sa.Date(),
        existing_nullable=False,
        postgresql_using="to_char(due_on, 'YYYY-MM-DD')",
    )
