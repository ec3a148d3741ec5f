"""matches.status: text -> match_status enum

matches is small (20k rows), so the rewrite of ALTER COLUMN TYPE is brief; the
default is dropped and re-set around the type change because the text default
cannot be cast automatically.
"""

from alembic import op

revision = "e1a0c0de0104"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "CREATE TYPE match_status AS ENUM "
        "('scheduled', 'live', 'finished', 'postponed', 'cancelled')"
    )
    op.execute("ALTER TABLE matches ALTER COLUMN status DROP DEFAULT")
    op.execute(
        "ALTER TABLE matches ALTER COLUMN status TYPE match_status USING status::match_status"
    )
    op.execute("ALTER TABLE matches ALTER COLUMN status SET DEFAULT 'scheduled'")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE matches ALTER COLUMN status DROP DEFAULT")
    op.execute("ALTER TABLE matches ALTER COLUMN status TYPE text USING status::text")
    op.execute("ALTER TABLE matches ALTER COLUMN status SET DEFAULT 'scheduled'")
    op.execute("DROP TYPE match_status")
