"""covering index orders (customer_id) INCLUDE (status, total_cents)"""

from alembic import op

revision = "c3f0c0de0026"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "orders_customer_id_covering_idx",
            "orders",
            ["customer_id"],
            postgresql_include=["status", "total_cents"],
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index(
            "orders_customer_id_covering_idx", table_name="orders", postgresql_concurrently=True
        )
