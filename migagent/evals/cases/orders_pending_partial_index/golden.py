"""partial index for pending orders by created_at"""

import sqlalchemy as sa
from alembic import op

revision = "c3f0c0de0024"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "orders_pending_created_at_idx",
            "orders",
            ["created_at"],
            postgresql_where=sa.text("status = 'pending'"),
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index(
            "orders_pending_created_at_idx", table_name="orders", postgresql_concurrently=True
        )
