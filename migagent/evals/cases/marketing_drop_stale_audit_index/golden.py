"""drop campaign_audit_log_actor_idx, the only secondary index on the audit table"""

from alembic import op

revision = "e1a0c0de0107"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.drop_index(
            "campaign_audit_log_actor_idx",
            table_name="campaign_audit_log",
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "campaign_audit_log_actor_idx",
            "campaign_audit_log",
            ["actor"],
            postgresql_concurrently=True,
        )
