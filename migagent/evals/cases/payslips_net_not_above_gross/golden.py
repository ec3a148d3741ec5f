"""PAYROLL-57: CHECK (net_cents <= gross_cents) on payslips

NOT VALID first (brief lock, no scan), then VALIDATE in its own transaction
under SHARE UPDATE EXCLUSIVE, so the payroll run keeps writing during the scan.
"""

from alembic import op

revision = "f2e0c0de0201"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE payslips ADD CONSTRAINT payslips_net_not_above_gross_check "
        "CHECK (net_cents <= gross_cents) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE payslips VALIDATE CONSTRAINT payslips_net_not_above_gross_check")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_constraint("payslips_net_not_above_gross_check", "payslips", type_="check")
