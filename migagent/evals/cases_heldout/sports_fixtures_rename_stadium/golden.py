"""rename fixtures.stadium -> venue (catalog-only, short lock)"""

from alembic import op

revision = "e1a0c0de0201"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("fixtures", "stadium", new_column_name="venue")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("fixtures", "venue", new_column_name="stadium")
