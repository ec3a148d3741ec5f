"""rename books.author to author_name

A catalog-only change; the index follows the column.
"""

from alembic import op

revision = "b2f0c0de0011"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("books", "author", new_column_name="author_name")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("books", "author_name", new_column_name="author")
