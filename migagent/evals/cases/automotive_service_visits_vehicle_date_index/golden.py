"""index service_visits (vehicle_id, visited_on), built CONCURRENTLY (15M rows)"""

from alembic import op

revision = "7e5c0de00010"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "service_visits_vehicle_id_visited_on_idx",
            "service_visits",
            ["vehicle_id", "visited_on"],
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index(
            "service_visits_vehicle_id_visited_on_idx",
            table_name="service_visits",
            postgresql_concurrently=True,
        )
