"""BRIN index on sensor_readings.recorded_at"""

from alembic import op

revision = "c3f0c0de0021"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "sensor_readings_recorded_at_brin",
            "sensor_readings",
            ["recorded_at"],
            postgresql_using="brin",
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index(
            "sensor_readings_recorded_at_brin",
            table_name="sensor_readings",
            postgresql_concurrently=True,
        )
