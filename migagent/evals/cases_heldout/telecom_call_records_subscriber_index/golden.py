"""index call_records (subscriber_id, started_at), CONCURRENTLY"""

from alembic import op

revision = "4e1dc0de0007"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.execute(
            "CREATE INDEX CONCURRENTLY call_records_subscriber_id_started_at_idx "
            "ON call_records (subscriber_id, started_at)"
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS call_records_subscriber_id_started_at_idx")
