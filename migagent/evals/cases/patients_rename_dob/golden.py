"""rename patients.dob to date_of_birth

Catalog-only; the index and the check constraint follow the column (their
names are left alone, the request names only the column).
"""

from alembic import op

revision = "f5e0c0de0504"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("patients", "dob", new_column_name="date_of_birth")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("patients", "date_of_birth", new_column_name="dob")
