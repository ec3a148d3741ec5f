"""reservations.guest_id -> guests.id

Added NOT VALID (brief lock), validated in its own transaction without
blocking writes. guest_id is already indexed.
"""

from alembic import op

revision = "7e5c0de00004"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE reservations ADD CONSTRAINT reservations_guest_id_fkey "
        "FOREIGN KEY (guest_id) REFERENCES guests (id) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE reservations VALIDATE CONSTRAINT reservations_guest_id_fkey")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_constraint("reservations_guest_id_fkey", "reservations", type_="foreignkey")
