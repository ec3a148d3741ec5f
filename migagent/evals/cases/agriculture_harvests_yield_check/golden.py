"""CHECK (yield_kg >= 0) on harvests

Added NOT VALID (short lock), then validated in its own transaction under
SHARE UPDATE EXCLUSIVE so writes continue during the 3.4M-row scan.
"""

from alembic import op

revision = "a9c0c0de0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE harvests ADD CONSTRAINT harvests_yield_kg_non_negative "
        "CHECK (yield_kg >= 0) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE harvests VALIDATE CONSTRAINT harvests_yield_kg_non_negative")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE harvests DROP CONSTRAINT harvests_yield_kg_non_negative")
