"""partial index on open tasks, expression index on lower(full_name)

Revision ID: 0003indexes
Revises: 0002priority
Create Date: 2025-02-10 14:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0003indexes"
down_revision = "0002priority"
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_tasks_open_due",
            "tasks",
            ["due_on"],
            postgresql_where=sa.text("status <> 'done'"),
            postgresql_concurrently=True,
        )
        op.create_index(
            "ix_users_lower_full_name",
            "users",
            [sa.text("lower(full_name)")],
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index("ix_users_lower_full_name", table_name="users", postgresql_concurrently=True)
        op.drop_index("ix_tasks_open_due", table_name="tasks", postgresql_concurrently=True)
