"""add invoices.currency NOT NULL DEFAULT 'EUR'

Since PostgreSQL 11 a constant default is stored in the catalog: no rewrite,
only a brief ACCESS EXCLUSIVE lock, guarded by a lock timeout.
"""

import sqlalchemy as sa
from alembic import op

revision = "a1f0c0de0009"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column(
        "invoices",
        sa.Column("currency", sa.String(3), nullable=False, server_default=sa.text("'EUR'")),
    )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("invoices", "currency")
