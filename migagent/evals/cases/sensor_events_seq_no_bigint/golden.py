"""sensor_events.seq_no: integer -> bigint, online

ALTER COLUMN ... TYPE bigint would rewrite 90M rows under ACCESS EXCLUSIVE.
Instead: add a bigint column kept in sync by a trigger, backfill it in
batches (each batch its own transaction), make it NOT NULL through a
validated CHECK, then swap the columns in one short transaction.
seq_no is the table's last column, so the swap keeps the column order.
"""

import sqlalchemy as sa
from alembic import op

revision = "b2f0c0de0017"
down_revision = None
branch_labels = None
depends_on = None

BATCH = 50_000


def _swap_seq_no(new_type, tmp):
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(f"ALTER TABLE sensor_events ADD COLUMN {tmp} {new_type}")
    op.execute(
        f"""
        CREATE FUNCTION sensor_events_sync_seq_no() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            NEW.{tmp} := NEW.seq_no;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER sensor_events_sync_seq_no BEFORE INSERT OR UPDATE ON sensor_events "
        "FOR EACH ROW EXECUTE FUNCTION sensor_events_sync_seq_no()"
    )

    with op.get_context().autocommit_block():
        bind = op.get_bind()
        lo, hi = bind.execute(sa.text("SELECT min(id), max(id) FROM sensor_events")).one()
        if lo is not None:
            for start in range(lo, hi + 1, BATCH):
                bind.execute(
                    sa.text(
                        f"UPDATE sensor_events SET {tmp} = seq_no "
                        f"WHERE id >= :lo AND id < :hi AND {tmp} IS DISTINCT FROM seq_no"
                    ),
                    {"lo": start, "hi": start + BATCH},
                )

    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        f"ALTER TABLE sensor_events ADD CONSTRAINT sensor_events_{tmp}_nn_chk "
        f"CHECK ({tmp} IS NOT NULL) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute(f"ALTER TABLE sensor_events VALIDATE CONSTRAINT sensor_events_{tmp}_nn_chk")

    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(f"ALTER TABLE sensor_events ALTER COLUMN {tmp} SET NOT NULL")
    op.execute(f"ALTER TABLE sensor_events DROP CONSTRAINT sensor_events_{tmp}_nn_chk")
    op.execute("DROP TRIGGER sensor_events_sync_seq_no ON sensor_events")
    op.execute("DROP FUNCTION sensor_events_sync_seq_no()")
    op.execute("ALTER TABLE sensor_events DROP COLUMN seq_no")
    op.execute(f"ALTER TABLE sensor_events RENAME COLUMN {tmp} TO seq_no")


def upgrade():
    _swap_seq_no("bigint", "seq_no_bigint")


def downgrade():
    # Fails (and rolls back the swap) if any seq_no no longer fits in an integer.
    _swap_seq_no("integer", "seq_no_int")
