"""BRIN index on delivered_shipments.delivered_at (rows arrive in time order)"""

from alembic import op

revision = "e1a0c0de0201"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "delivered_shipments_delivered_at_brin",
            "delivered_shipments",
            ["delivered_at"],
            postgresql_using="brin",
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index(
            "delivered_shipments_delivered_at_brin",
            table_name="delivered_shipments",
            postgresql_concurrently=True,
        )
