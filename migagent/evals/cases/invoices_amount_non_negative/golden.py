"""BILL-88: CHECK (amount_cents >= 0) on invoices

Added NOT VALID (brief lock, no scan), validated in its own transaction.
"""

from alembic import op

revision = "c3f0c0de0028"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE invoices ADD CONSTRAINT invoices_amount_cents_non_negative "
        "CHECK (amount_cents >= 0) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE invoices VALIDATE CONSTRAINT invoices_amount_cents_non_negative")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_constraint("invoices_amount_cents_non_negative", "invoices", type_="check")
