"""add task priority with a validated check

Revision ID: 0002priority
Revises: 0001initial
Create Date: 2025-02-03 10:15:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0002priority"
down_revision = "0001initial"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column(
        "tasks", sa.Column("priority", sa.SmallInteger(), server_default="3", nullable=False)
    )
    op.execute(
        "ALTER TABLE tasks ADD CONSTRAINT ck_tasks_priority_range "
        "CHECK (priority BETWEEN 1 AND 5) NOT VALID"
    )
    op.execute("ALTER TABLE tasks VALIDATE CONSTRAINT ck_tasks_priority_range")


def downgrade():
    op.drop_constraint("ck_tasks_priority_range", "tasks", type_="check")
    op.drop_column("tasks", "priority")
