"""rename crm_notes -> contact_notes (catalog-only, short lock)"""

from alembic import op

revision = "e1a0c0de0201"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.rename_table("crm_notes", "contact_notes")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.rename_table("contact_notes", "crm_notes")
