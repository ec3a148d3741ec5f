"""devices -> desired.sql

- unique serial_number: unique index built CONCURRENTLY, attached as the
  constraint, then the now redundant plain index dropped CONCURRENTLY;
- is_active: catalog-only add (constant default);
- legacy_gateway_ip: dropped (catalog-only). The downgrade re-adds it empty.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "e5f0c0de0042"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.execute(
            "CREATE UNIQUE INDEX CONCURRENTLY devices_serial_number_key ON devices (serial_number)"
        )
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE devices ADD CONSTRAINT devices_serial_number_key "
        "UNIQUE USING INDEX devices_serial_number_key"
    )
    op.drop_column("devices", "legacy_gateway_ip")
    op.add_column(
        "devices",
        sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.text("true")),
    )
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY devices_serial_number_idx")


def downgrade():
    with op.get_context().autocommit_block():
        op.execute("CREATE INDEX CONCURRENTLY devices_serial_number_idx ON devices (serial_number)")
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("devices", "is_active")
    op.add_column("devices", sa.Column("legacy_gateway_ip", postgresql.INET()))
    op.execute("ALTER TABLE devices DROP CONSTRAINT devices_serial_number_key")
