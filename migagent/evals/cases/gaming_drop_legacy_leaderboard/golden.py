"""drop legacy_leaderboard; the downgrade recreates it empty (its rows stay lost)"""

from alembic import op

revision = "e1a0c0de0106"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("DROP TABLE legacy_leaderboard")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        """
        CREATE TABLE legacy_leaderboard (
            id BIGSERIAL PRIMARY KEY,
            season_id INTEGER NOT NULL REFERENCES seasons (id) ON DELETE CASCADE,
            player_id BIGINT NOT NULL,
            score INTEGER NOT NULL DEFAULT 0,
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        "CREATE INDEX legacy_leaderboard_season_id_score_idx ON legacy_leaderboard (season_id, score)"
    )
