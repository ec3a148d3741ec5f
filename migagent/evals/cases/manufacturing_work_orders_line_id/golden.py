"""work_orders.line_id -> lines.id (integer, like lines.id)

1. add the column nullable: catalog-only;
2. index it CONCURRENTLY (joins, deletes on lines and the validation need it);
3. add the FK NOT VALID (brief lock), VALIDATE in its own transaction.
"""

import sqlalchemy as sa
from alembic import op

revision = "7e5c0de00005"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("work_orders", sa.Column("line_id", sa.Integer(), nullable=True))
    with op.get_context().autocommit_block():
        op.create_index(
            "work_orders_line_id_idx", "work_orders", ["line_id"], postgresql_concurrently=True
        )
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE work_orders ADD CONSTRAINT work_orders_line_id_fkey "
        "FOREIGN KEY (line_id) REFERENCES lines (id) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE work_orders VALIDATE CONSTRAINT work_orders_line_id_fkey")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_constraint("work_orders_line_id_fkey", "work_orders", type_="foreignkey")
    with op.get_context().autocommit_block():
        op.drop_index(
            "work_orders_line_id_idx", table_name="work_orders", postgresql_concurrently=True
        )
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("work_orders", "line_id")
