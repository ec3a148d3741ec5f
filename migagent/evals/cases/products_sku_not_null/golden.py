"""JIRA-1234: products.sku NOT NULL

SET NOT NULL on a large table via a validated CHECK constraint, so the only
ACCESS EXCLUSIVE locks are short and no full scan happens under them.
"""

from alembic import op

revision = "a1f0c0de0005"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE products ADD CONSTRAINT products_sku_not_null_chk "
        "CHECK (sku IS NOT NULL) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE products VALIDATE CONSTRAINT products_sku_not_null_chk")
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE products ALTER COLUMN sku SET NOT NULL")
    op.execute("ALTER TABLE products DROP CONSTRAINT products_sku_not_null_chk")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE products ALTER COLUMN sku DROP NOT NULL")
