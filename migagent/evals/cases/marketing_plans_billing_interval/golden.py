"""plans.billing_interval billing_cycle NOT NULL DEFAULT 'monthly'

"billing interval" is a column, not the interval type; the existing
billing_cycle enum already holds monthly/annual, so the column reuses it.
"""

from alembic import op

revision = "e1a0c0de0107"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE plans ADD COLUMN billing_interval billing_cycle NOT NULL DEFAULT 'monthly'"
    )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("plans", "billing_interval")
