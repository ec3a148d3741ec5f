"""index orders.customer_id

Built CONCURRENTLY: orders is large and busy.
"""

from alembic import op

revision = "a1f0c0de0003"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "orders_customer_id_idx",
            "orders",
            ["customer_id"],
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index("orders_customer_id_idx", table_name="orders", postgresql_concurrently=True)
