"""partial index for the moderation queue (unpublished recipes by submitted_at)"""

import sqlalchemy as sa
from alembic import op

revision = "f4e0c0de0403"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "recipes_unpublished_submitted_at_idx",
            "recipes",
            ["submitted_at"],
            postgresql_where=sa.text("published_at IS NULL"),
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index(
            "recipes_unpublished_submitted_at_idx",
            table_name="recipes",
            postgresql_concurrently=True,
        )
