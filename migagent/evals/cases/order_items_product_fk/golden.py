"""FK order_items.product_id -> products.id

1. index the referencing column CONCURRENTLY (deletes on products and the
   validation scan need it);
2. add the FK NOT VALID: a brief lock, no scan;
3. VALIDATE in its own transaction: SHARE UPDATE EXCLUSIVE, writes go on.
"""

from alembic import op

revision = "c3f0c0de0027"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "order_items_product_id_idx",
            "order_items",
            ["product_id"],
            postgresql_concurrently=True,
        )
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE order_items ADD CONSTRAINT order_items_product_id_fkey "
        "FOREIGN KEY (product_id) REFERENCES products (id) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE order_items VALIDATE CONSTRAINT order_items_product_id_fkey")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_constraint("order_items_product_id_fkey", "order_items", type_="foreignkey")
    with op.get_context().autocommit_block():
        op.drop_index(
            "order_items_product_id_idx", table_name="order_items", postgresql_concurrently=True
        )
