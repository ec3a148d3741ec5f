"""index order_items (order_id, product_id)"""

from alembic import op

revision = "c3f0c0de0025"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "order_items_order_id_product_id_idx",
            "order_items",
            ["order_id", "product_id"],
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index(
            "order_items_order_id_product_id_idx",
            table_name="order_items",
            postgresql_concurrently=True,
        )
