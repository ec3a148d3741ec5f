"""FK meter_readings.meter_id -> meters.id

210M rows: NOT VALID takes only a short lock; VALIDATE scans under SHARE
UPDATE EXCLUSIVE, so reads and writes continue. The existing
(meter_id, read_at) index already serves the FK's lookups.
"""

from alembic import op

revision = "e4e7c0de0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE meter_readings ADD CONSTRAINT meter_readings_meter_id_fkey "
        "FOREIGN KEY (meter_id) REFERENCES meters (id) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE meter_readings VALIDATE CONSTRAINT meter_readings_meter_id_fkey")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_constraint("meter_readings_meter_id_fkey", "meter_readings", type_="foreignkey")
