"""create post_tags (posts <-> tags)

Column types follow the referenced keys (posts.id bigint, tags.id integer).
The primary key (post_id, tag_id) serves lookups by post; tag_id gets its
own index. The table is new, so no CONCURRENTLY is needed.
"""

import sqlalchemy as sa
from alembic import op

revision = "f6f0c0de0052"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.create_table(
        "post_tags",
        sa.Column(
            "post_id",
            sa.BigInteger(),
            sa.ForeignKey("posts.id", name="post_tags_post_id_fkey", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "tag_id",
            sa.Integer(),
            sa.ForeignKey("tags.id", name="post_tags_tag_id_fkey", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("post_id", "tag_id", name="post_tags_pkey"),
    )
    op.create_index("post_tags_tag_id_idx", "post_tags", ["tag_id"])


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_table("post_tags")
