"""CHECK (payout_cents <= insured_amount_cents) on claims

NULL payouts (not yet settled) pass the check. Added NOT VALID, validated in
its own transaction so writes continue during the 5.2M-row scan.
"""

from alembic import op

revision = "4e1dc0de0005"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE claims ADD CONSTRAINT claims_payout_within_insured_amount "
        "CHECK (payout_cents <= insured_amount_cents) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE claims VALIDATE CONSTRAINT claims_payout_within_insured_amount")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE claims DROP CONSTRAINT claims_payout_within_insured_amount")
