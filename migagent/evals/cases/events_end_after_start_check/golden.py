"""CHECK (ends_at > starts_at) on events

NOT VALID first (brief lock, no scan), then VALIDATE in its own transaction
under SHARE UPDATE EXCLUSIVE so organisers can keep editing events.
"""

from alembic import op

revision = "f3e0c0de0302"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE events ADD CONSTRAINT events_ends_after_starts_check "
        "CHECK (ends_at > starts_at) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE events VALIDATE CONSTRAINT events_ends_after_starts_check")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_constraint("events_ends_after_starts_check", "events", type_="check")
