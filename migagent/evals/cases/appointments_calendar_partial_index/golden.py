"""partial index for the practitioner calendar: (practitioner_id, starts_at)
over appointments that are not cancelled"""

import sqlalchemy as sa
from alembic import op

revision = "f5e0c0de0503"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "appointments_practitioner_id_starts_at_active_idx",
            "appointments",
            ["practitioner_id", "starts_at"],
            postgresql_where=sa.text("cancelled_at IS NULL"),
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index(
            "appointments_practitioner_id_starts_at_active_idx",
            table_name="appointments",
            postgresql_concurrently=True,
        )
