"""FK gps_pings.trip_id -> trips.id, without blocking the ingest

gps_pings already has an index led by trip_id (trip_id, recorded_at), which
serves the validation scan and deletes on trips, so no new index is needed.
1. add the FK NOT VALID: a brief SHARE ROW EXCLUSIVE lock, no scan;
2. VALIDATE in its own transaction: SHARE UPDATE EXCLUSIVE, inserts go on.
"""

from alembic import op

revision = "f1e0c0de0101"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE gps_pings ADD CONSTRAINT gps_pings_trip_id_fkey "
        "FOREIGN KEY (trip_id) REFERENCES trips (id) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE gps_pings VALIDATE CONSTRAINT gps_pings_trip_id_fkey")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_constraint("gps_pings_trip_id_fkey", "gps_pings", type_="foreignkey")
