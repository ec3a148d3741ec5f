"""index products.sku for lookups

A plain btree index, built CONCURRENTLY on a large table.
"""

from alembic import op

revision = "a1f0c0de0004"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.execute("CREATE INDEX CONCURRENTLY products_sku_idx ON products (sku)")


def downgrade():
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY products_sku_idx")
