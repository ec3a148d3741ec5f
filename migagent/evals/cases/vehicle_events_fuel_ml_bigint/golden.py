"""vehicle_events.total_fuel_ml: integer -> bigint, online

ALTER COLUMN ... TYPE bigint would rewrite 40M rows under ACCESS EXCLUSIVE.
Instead: add a bigint column kept in sync by a trigger, backfill it in
committed batches, then swap the columns in one short transaction. The
column is nullable and unindexed, so the swap needs no NOT NULL or index
work; it is the table's last column, so the column order is kept.
"""

import sqlalchemy as sa
from alembic import op

revision = "f1e0c0de0103"
down_revision = None
branch_labels = None
depends_on = None

BATCH = 50_000


def _swap(new_type, tmp):
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(f"ALTER TABLE vehicle_events ADD COLUMN {tmp} {new_type}")
    op.execute(
        f"""
        CREATE FUNCTION vehicle_events_sync_total_fuel_ml() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            NEW.{tmp} := NEW.total_fuel_ml;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER vehicle_events_sync_total_fuel_ml "
        "BEFORE INSERT OR UPDATE ON vehicle_events "
        "FOR EACH ROW EXECUTE FUNCTION vehicle_events_sync_total_fuel_ml()"
    )

    with op.get_context().autocommit_block():
        bind = op.get_bind()
        lo, hi = bind.execute(sa.text("SELECT min(id), max(id) FROM vehicle_events")).one()
        if lo is not None:
            for start in range(lo, hi + 1, BATCH):
                bind.execute(
                    sa.text(
                        f"UPDATE vehicle_events SET {tmp} = total_fuel_ml "
                        f"WHERE id >= :lo AND id < :hi "
                        f"AND {tmp} IS DISTINCT FROM total_fuel_ml"
                    ),
                    {"lo": start, "hi": start + BATCH},
                )

    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("DROP TRIGGER vehicle_events_sync_total_fuel_ml ON vehicle_events")
    op.execute("DROP FUNCTION vehicle_events_sync_total_fuel_ml()")
    op.execute("ALTER TABLE vehicle_events DROP COLUMN total_fuel_ml")
    op.execute(f"ALTER TABLE vehicle_events RENAME COLUMN {tmp} TO total_fuel_ml")


def upgrade():
    _swap("bigint", "total_fuel_ml_bigint")


def downgrade():
    # Fails (and rolls back the swap) if a value no longer fits in an integer.
    _swap("integer", "total_fuel_ml_int")
