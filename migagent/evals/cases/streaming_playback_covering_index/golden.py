"""covering index playback_sessions (profile_id, started_at) INCLUDE (title_id, position_seconds)

A btree scans backwards for ORDER BY started_at DESC; INCLUDE makes the
continue-watching query index-only. Built CONCURRENTLY.
"""

from alembic import op

revision = "57e4c0de0003"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.execute(
            "CREATE INDEX CONCURRENTLY playback_sessions_profile_started_covering_idx "
            "ON playback_sessions (profile_id, started_at) INCLUDE (title_id, position_seconds)"
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.execute(
            "DROP INDEX CONCURRENTLY IF EXISTS playback_sessions_profile_started_covering_idx"
        )
