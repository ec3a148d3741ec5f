"""applications.case_officer DROP NOT NULL (catalog-only)

The downgrade fails if NULLs were written since; that is the honest result.
"""

from alembic import op

revision = "7e5c0de00014"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE applications ALTER COLUMN case_officer DROP NOT NULL")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE applications ALTER COLUMN case_officer SET NOT NULL")
