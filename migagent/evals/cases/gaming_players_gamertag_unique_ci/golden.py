"""unique lower(gamertag) among live players (partial unique expression index)"""

from alembic import op

revision = "e1a0c0de0106"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.execute(
            "CREATE UNIQUE INDEX CONCURRENTLY players_gamertag_live_key "
            "ON players (lower(gamertag)) WHERE deleted_at IS NULL"
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY players_gamertag_live_key")
