"""unique slug among live posts (partial unique index)"""

import sqlalchemy as sa
from alembic import op

revision = "e5f0c0de0046"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "posts_slug_live_key",
            "posts",
            ["slug"],
            unique=True,
            postgresql_where=sa.text("deleted_at IS NULL"),
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index("posts_slug_live_key", table_name="posts", postgresql_concurrently=True)
