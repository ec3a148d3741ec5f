"""employees.manager_id -> employees.id

The column is new and all NULL, so the FK could validate instantly; it is
still added NOT VALID + VALIDATE to keep the ACCESS-level lock minimal.
"""

import sqlalchemy as sa
from alembic import op

revision = "f6f0c0de0051"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("employees", sa.Column("manager_id", sa.Integer(), nullable=True))
    with op.get_context().autocommit_block():
        op.create_index(
            "employees_manager_id_idx",
            "employees",
            ["manager_id"],
            postgresql_concurrently=True,
        )
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE employees ADD CONSTRAINT employees_manager_id_fkey "
        "FOREIGN KEY (manager_id) REFERENCES employees (id) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE employees VALIDATE CONSTRAINT employees_manager_id_fkey")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_constraint("employees_manager_id_fkey", "employees", type_="foreignkey")
    op.drop_index("employees_manager_id_idx", table_name="employees")
    op.drop_column("employees", "manager_id")
