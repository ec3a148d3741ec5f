"""CHECK (check_out > check_in) on stays

Added NOT VALID (brief lock, no scan), then validated in its own transaction
under SHARE UPDATE EXCLUSIVE so bookings keep flowing.
"""

from alembic import op

revision = "e1a0c0de0105"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE stays ADD CONSTRAINT stays_check_out_after_check_in_chk "
        "CHECK (check_out > check_in) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE stays VALIDATE CONSTRAINT stays_check_out_after_check_in_chk")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE stays DROP CONSTRAINT stays_check_out_after_check_in_chk")
