"""staff.payroll_number: text -> integer

text -> integer rewrites the table (and rebuilds the unique index) under
ACCESS EXCLUSIVE; at 4k rows that takes milliseconds, so the plain form
with a lock timeout is fine. A value that is not a number would make the
cast fail and the whole migration roll back.
"""

import sqlalchemy as sa
from alembic import op

revision = "f2e0c0de0203"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column(
        "staff",
        "payroll_number",
        type_=sa.Integer(),
        existing_type=sa.Text(),
        existing_nullable=False,
        postgresql_using="payroll_number::integer",
    )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column(
        "staff",
        "payroll_number",
        type_=sa.Text(),
        existing_type=sa.Integer(),
        existing_nullable=False,
        postgresql_using="payroll_number::text",
    )
