"""drop stock_movements_lot_no_idx CONCURRENTLY (25M rows: no ACCESS EXCLUSIVE wait)"""

from alembic import op

revision = "7e5c0de00002"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.drop_index(
            "stock_movements_lot_no_idx",
            table_name="stock_movements",
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "stock_movements_lot_no_idx",
            "stock_movements",
            ["lot_no"],
            postgresql_concurrently=True,
        )
