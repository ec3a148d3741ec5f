"""unique (event_id, attendee_id) among bookings that are not soft-deleted

A partial unique index (a constraint cannot carry a WHERE), built
CONCURRENTLY so bookings keep coming in on the 8M-row table.
"""

import sqlalchemy as sa
from alembic import op

revision = "f3e0c0de0301"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "bookings_event_id_attendee_id_live_key",
            "bookings",
            ["event_id", "attendee_id"],
            unique=True,
            postgresql_where=sa.text("deleted_at IS NULL"),
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index(
            "bookings_event_id_attendee_id_live_key",
            table_name="bookings",
            postgresql_concurrently=True,
        )
