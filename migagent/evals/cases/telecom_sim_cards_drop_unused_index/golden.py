"""drop sim_cards_status_activated_at_idx

DROP INDEX CONCURRENTLY does not block reads or writes on sim_cards; the
downgrade rebuilds the index CONCURRENTLY.
"""

from alembic import op

revision = "7e1ec0de0002"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS sim_cards_status_activated_at_idx")


def downgrade():
    with op.get_context().autocommit_block():
        op.execute(
            "CREATE INDEX CONCURRENTLY sim_cards_status_activated_at_idx "
            "ON sim_cards (status, activated_at)"
        )
