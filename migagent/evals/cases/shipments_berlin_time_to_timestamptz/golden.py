"""shipments.shipped_at: Berlin wall-clock timestamp -> timestamptz

`ts AT TIME ZONE 'Europe/Berlin'` reads each value as Berlin local time
(independent of the session's TimeZone). The type change rewrites the table
and its index under ACCESS EXCLUSIVE: fine at 30k rows, with a lock timeout.
"""

import sqlalchemy as sa
from alembic import op

revision = "d4f0c0de0036"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column(
        "shipments",
        "shipped_at",
        type_=sa.DateTime(timezone=True),
        existing_type=sa.DateTime(timezone=False),
        postgresql_using="shipped_at AT TIME ZONE 'Europe/Berlin'",
    )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column(
        "shipments",
        "shipped_at",
        type_=sa.DateTime(timezone=False),
        existing_type=sa.DateTime(timezone=True),
        postgresql_using="shipped_at AT TIME ZONE 'Europe/Berlin'",
    )
