"""PAY-311: CHECK payments.method IN ('card', 'sepa', 'paypal')

NOT VALID first (brief lock, no scan), then VALIDATE in its own transaction
under SHARE UPDATE EXCLUSIVE, so payments keep flowing during the scan.
"""

from alembic import op

revision = "e5f0c0de0047"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE payments ADD CONSTRAINT payments_method_check "
        "CHECK (method IN ('card', 'sepa', 'paypal')) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE payments VALIDATE CONSTRAINT payments_method_check")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_constraint("payments_method_check", "payments", type_="check")
