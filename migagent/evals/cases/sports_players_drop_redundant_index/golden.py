"""drop players_team_id_idx: (team_id, jersey_number) already serves team_id lookups

DROP INDEX CONCURRENTLY avoids blocking reads and writes on players.
"""

from alembic import op

revision = "e1a0c0de0104"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.drop_index("players_team_id_idx", table_name="players", postgresql_concurrently=True)


def downgrade():
    with op.get_context().autocommit_block():
        op.create_index("players_team_id_idx", "players", ["team_id"], postgresql_concurrently=True)
