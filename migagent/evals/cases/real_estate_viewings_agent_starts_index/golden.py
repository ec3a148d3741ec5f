"""index viewings (agent_id, starts_at), built CONCURRENTLY"""

from alembic import op

revision = "e1a0c0de0103"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "viewings_agent_id_starts_at_idx",
            "viewings",
            ["agent_id", "starts_at"],
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index(
            "viewings_agent_id_starts_at_idx", table_name="viewings", postgresql_concurrently=True
        )
