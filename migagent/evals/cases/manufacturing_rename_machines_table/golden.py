"""machines -> equipment (catalog-only; the FK from maintenance_logs follows)"""

from alembic import op

revision = "7e5c0de00006"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.rename_table("machines", "equipment")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.rename_table("equipment", "machines")
