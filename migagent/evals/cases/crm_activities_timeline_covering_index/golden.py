"""covering index activities (contact_id, occurred_at) INCLUDE (kind, subject)"""

from alembic import op

revision = "e1a0c0de0106"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "activities_contact_id_occurred_at_idx",
            "activities",
            ["contact_id", "occurred_at"],
            postgresql_include=["kind", "subject"],
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index(
            "activities_contact_id_occurred_at_idx",
            table_name="activities",
            postgresql_concurrently=True,
        )
