"""partial index transfers (requested_at) WHERE status = 'awaiting_approval'"""

import sqlalchemy as sa
from alembic import op

revision = "e1a0c0de0201"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "transfers_awaiting_approval_requested_at_idx",
            "transfers",
            ["requested_at"],
            postgresql_where=sa.text("status = 'awaiting_approval'"),
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index(
            "transfers_awaiting_approval_requested_at_idx",
            table_name="transfers",
            postgresql_concurrently=True,
        )
