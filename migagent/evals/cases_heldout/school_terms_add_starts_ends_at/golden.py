"""terms.starts_at / ends_at timestamptz, ends_at after starts_at

Nullable: existing terms have no dates yet (the check passes on NULLs).
A 90-row table: the plain forms are fine.
"""

import sqlalchemy as sa
from alembic import op

revision = "4e1dc0de0008"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("terms", sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("terms", sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint("terms_ends_after_starts", "terms", "ends_at > starts_at")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_constraint("terms_ends_after_starts", "terms", type_="check")
    op.drop_column("terms", "ends_at")
    op.drop_column("terms", "starts_at")
