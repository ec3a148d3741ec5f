"""prescriptions.dispensed_at: a nullable timestamptz (catalog-only, no rewrite)"""

import sqlalchemy as sa
from alembic import op

revision = "7e5c0de00001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column(
        "prescriptions", sa.Column("dispensed_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("prescriptions", "dispensed_at")
