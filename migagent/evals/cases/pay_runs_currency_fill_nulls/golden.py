"""pay_runs.currency = 'GBP' where it is NULL (data only)

3k rows: one UPDATE is a few milliseconds, no batching needed. The
downgrade cannot tell the filled rows from ones that were GBP all along, so
it leaves the data as it is.
"""

from alembic import op

revision = "f2e0c0de0202"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE pay_runs SET currency = 'GBP' WHERE currency IS NULL")


def downgrade():
    # Irreversible data fix: the rows that were NULL are not known any more.
    pass
