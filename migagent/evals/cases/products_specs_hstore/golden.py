"""products.specs hstore"""

from alembic import op

revision = "d4f0c0de0033"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE EXTENSION IF NOT EXISTS hstore")
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE products ADD COLUMN specs hstore")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE products DROP COLUMN specs")
    op.execute("DROP EXTENSION IF EXISTS hstore")
