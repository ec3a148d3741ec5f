"""ledger_entries.amount_cents: integer -> bigint, online

ALTER COLUMN ... TYPE bigint would rewrite 60M rows under ACCESS EXCLUSIVE.
Instead: add a bigint column kept in sync by a trigger, backfill it in
committed batches, make it NOT NULL through a validated CHECK, then swap the
columns in one short transaction. amount_cents is the last column, so the swap
keeps the column order.
"""

import sqlalchemy as sa
from alembic import op

revision = "e1a0c0de0102"
down_revision = None
branch_labels = None
depends_on = None

BATCH = 50_000


def _swap_amount(new_type, tmp):
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(f"ALTER TABLE ledger_entries ADD COLUMN {tmp} {new_type}")
    op.execute(
        f"""
        CREATE FUNCTION ledger_entries_sync_amount_cents() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            NEW.{tmp} := NEW.amount_cents;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER ledger_entries_sync_amount_cents BEFORE INSERT OR UPDATE ON ledger_entries "
        "FOR EACH ROW EXECUTE FUNCTION ledger_entries_sync_amount_cents()"
    )

    with op.get_context().autocommit_block():
        bind = op.get_bind()
        lo, hi = bind.execute(sa.text("SELECT min(id), max(id) FROM ledger_entries")).one()
        if lo is not None:
            for start in range(lo, hi + 1, BATCH):
                bind.execute(
                    sa.text(
                        f"UPDATE ledger_entries SET {tmp} = amount_cents "
                        f"WHERE id >= :lo AND id < :hi AND {tmp} IS DISTINCT FROM amount_cents"
                    ),
                    {"lo": start, "hi": start + BATCH},
                )

    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        f"ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_{tmp}_nn_chk "
        f"CHECK ({tmp} IS NOT NULL) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute(f"ALTER TABLE ledger_entries VALIDATE CONSTRAINT ledger_entries_{tmp}_nn_chk")

    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(f"ALTER TABLE ledger_entries ALTER COLUMN {tmp} SET NOT NULL")
    op.execute(f"ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_{tmp}_nn_chk")
    op.execute("DROP TRIGGER ledger_entries_sync_amount_cents ON ledger_entries")
    op.execute("DROP FUNCTION ledger_entries_sync_amount_cents()")
    op.execute("ALTER TABLE ledger_entries DROP COLUMN amount_cents")
    op.execute(f"ALTER TABLE ledger_entries RENAME COLUMN {tmp} TO amount_cents")


def upgrade():
    _swap_amount("bigint", "amount_cents_bigint")


def downgrade():
    # Fails (and rolls back the swap) if any amount no longer fits in an integer.
    _swap_amount("integer", "amount_cents_int")
