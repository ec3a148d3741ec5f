"""rename drivers.licence_no to license_number

Catalog-only; the unique constraint and its index follow the column (their
names stay as they are, the request names only the column).
"""

from alembic import op

revision = "f1e0c0de0104"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("drivers", "licence_no", new_column_name="license_number")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("drivers", "license_number", new_column_name="licence_no")
