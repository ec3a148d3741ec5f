"""GIN (jsonb_path_ops) index on properties.features

jsonb_path_ops supports @> only and is much smaller than the default
jsonb_ops, which is what "containment only, keep it small" asks for.
"""

from alembic import op

revision = "e1a0c0de0103"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "properties_features_idx",
            "properties",
            ["features"],
            postgresql_using="gin",
            postgresql_ops={"features": "jsonb_path_ops"},
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index(
            "properties_features_idx", table_name="properties", postgresql_concurrently=True
        )
