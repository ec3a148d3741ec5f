"""GIN index on products.attributes for containment queries

The default jsonb_ops opclass supports @>, ?, ?| and ?&.
"""

from alembic import op

revision = "c3f0c0de0022"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "products_attributes_gin",
            "products",
            ["attributes"],
            postgresql_using="gin",
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index(
            "products_attributes_gin", table_name="products", postgresql_concurrently=True
        )
