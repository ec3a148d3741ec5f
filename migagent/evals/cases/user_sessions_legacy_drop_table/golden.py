"""drop user_sessions_legacy

The downgrade recreates the table exactly as it was (same columns, sequence,
constraint and index names); the session rows themselves are gone.
"""

from alembic import op

revision = "b2f0c0de0014"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("DROP TABLE user_sessions_legacy")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        """
        CREATE TABLE user_sessions_legacy (
            id BIGSERIAL PRIMARY KEY,
            user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            token CHAR(64) NOT NULL UNIQUE,
            user_agent TEXT,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            expires_at TIMESTAMPTZ NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX user_sessions_legacy_user_id_idx ON user_sessions_legacy (user_id)")
    op.execute(
        "CREATE INDEX user_sessions_legacy_expires_at_idx ON user_sessions_legacy (expires_at)"
    )
