"""no overlapping bookings per room (exclusion constraint)

btree_gist provides the gist opclass for the `room_id WITH =` part. The
constraint builds its index under a SHARE ROW EXCLUSIVE lock; at 2k rows that
is instant.
"""

from alembic import op

revision = "d4f0c0de0032"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE room_bookings ADD CONSTRAINT room_bookings_no_overlap "
        "EXCLUDE USING gist (room_id WITH =, during WITH &&)"
    )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE room_bookings DROP CONSTRAINT room_bookings_no_overlap")
    op.execute("DROP EXTENSION IF EXISTS btree_gist")
