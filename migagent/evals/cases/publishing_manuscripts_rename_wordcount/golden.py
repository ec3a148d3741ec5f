"""manuscripts.wordcount -> word_count (catalog-only; data kept)"""

from alembic import op

revision = "7e5c0de00011"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("manuscripts", "wordcount", new_column_name="word_count")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("manuscripts", "word_count", new_column_name="wordcount")
