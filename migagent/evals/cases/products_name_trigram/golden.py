"""trigram index on products.name

pg_trgm's gin_trgm_ops makes LIKE/ILIKE '%...%' indexable.
"""

from alembic import op

revision = "c3f0c0de0023"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.get_context().autocommit_block():
        op.create_index(
            "products_name_trgm_idx",
            "products",
            ["name"],
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index("products_name_trgm_idx", table_name="products", postgresql_concurrently=True)
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
