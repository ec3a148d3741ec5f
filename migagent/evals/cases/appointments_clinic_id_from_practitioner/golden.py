"""appointments.clinic_id IS NULL -> the practitioner's clinic (data only)

Committed id-range batches over the 5M-row table, touching only rows that
are still NULL (rows with a clinic, even one that differs from the
practitioner's, are left alone). The downgrade cannot tell which rows were
filled, so it leaves the data as it is.
"""

import sqlalchemy as sa
from alembic import op

revision = "f5e0c0de0502"
down_revision = None
branch_labels = None
depends_on = None

BATCH = 20_000


def upgrade():
    with op.get_context().autocommit_block():
        bind = op.get_bind()
        lo, hi = bind.execute(sa.text("SELECT min(id), max(id) FROM appointments")).one()
        if lo is None:
            return
        for start in range(lo, hi + 1, BATCH):
            bind.execute(
                sa.text(
                    """
                    UPDATE appointments AS a
                    SET clinic_id = p.clinic_id
                    FROM practitioners AS p
                    WHERE p.id = a.practitioner_id
                      AND a.id >= :lo AND a.id < :hi
                      AND a.clinic_id IS NULL
                    """
                ),
                {"lo": start, "hi": start + BATCH},
            )


def downgrade():
    # Irreversible data fix: the rows that were NULL are not known any more.
    pass
