"""donations.amount_cents: integer -> bigint, online

ALTER COLUMN ... TYPE bigint would rewrite 12M rows under ACCESS EXCLUSIVE.
Instead: add a bigint column kept in sync by a trigger, backfill it in
committed batches, then swap the columns in one short transaction. The
column is nullable, unindexed and the table's last, so the order is kept.
"""

import sqlalchemy as sa
from alembic import op

revision = "7e5c0de00007"
down_revision = None
branch_labels = None
depends_on = None


BATCH = 50_000


def _swap(new_type, tmp):
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(f"ALTER TABLE donations ADD COLUMN {tmp} {new_type}")
    op.execute(
        f"""
        CREATE FUNCTION donations_sync_amount_cents() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            NEW.{tmp} := NEW.amount_cents;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER donations_sync_amount_cents "
        "BEFORE INSERT OR UPDATE ON donations "
        "FOR EACH ROW EXECUTE FUNCTION donations_sync_amount_cents()"
    )

    with op.get_context().autocommit_block():
        bind = op.get_bind()
        lo, hi = bind.execute(sa.text("SELECT min(id), max(id) FROM donations")).one()
        if lo is not None:
            for start in range(lo, hi + 1, BATCH):
                bind.execute(
                    sa.text(
                        f"UPDATE donations SET {tmp} = amount_cents "
                        f"WHERE id >= :lo AND id < :hi "
                        f"AND {tmp} IS DISTINCT FROM amount_cents"
                    ),
                    {"lo": start, "hi": start + BATCH},
                )

    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("DROP TRIGGER donations_sync_amount_cents ON donations")
    op.execute("DROP FUNCTION donations_sync_amount_cents()")
    op.execute("ALTER TABLE donations DROP COLUMN amount_cents")
    op.execute(f"ALTER TABLE donations RENAME COLUMN {tmp} TO amount_cents")


def upgrade():
    _swap("bigint", "amount_cents_bigint")


def downgrade():
    # Fails (and rolls back the swap) if a value no longer fits in an integer.
    _swap("integer", "amount_cents_int")
