"""permits.issued_on NOT NULL on 2.5M rows

A CHECK (issued_on IS NOT NULL) added NOT VALID and validated without
blocking writes lets SET NOT NULL skip its full-table scan; the check is
dropped afterwards.
"""

from alembic import op

revision = "7e5c0de00013"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE permits ADD CONSTRAINT permits_issued_on_not_null_chk "
        "CHECK (issued_on IS NOT NULL) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE permits VALIDATE CONSTRAINT permits_issued_on_not_null_chk")
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE permits ALTER COLUMN issued_on SET NOT NULL")
    op.execute("ALTER TABLE permits DROP CONSTRAINT permits_issued_on_not_null_chk")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE permits ALTER COLUMN issued_on DROP NOT NULL")
