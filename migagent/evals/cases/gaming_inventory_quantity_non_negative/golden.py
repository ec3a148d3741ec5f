"""CHECK (quantity >= 0) on inventory_items, NOT VALID then VALIDATE"""

from alembic import op

revision = "e1a0c0de0106"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE inventory_items ADD CONSTRAINT inventory_items_quantity_non_negative_chk "
        "CHECK (quantity >= 0) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute(
            "ALTER TABLE inventory_items VALIDATE CONSTRAINT inventory_items_quantity_non_negative_chk"
        )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE inventory_items DROP CONSTRAINT inventory_items_quantity_non_negative_chk"
    )
