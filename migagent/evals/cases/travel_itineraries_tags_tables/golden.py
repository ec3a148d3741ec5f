"""tags + itinerary_tags (many-to-many with itineraries)

Both tables are new and empty. The pair is the primary key (it also serves
"tags of an itinerary"); tag_id gets its own index for "itineraries by tag".
Creating the FK to itineraries takes a brief SHARE ROW EXCLUSIVE lock on it.
"""

import sqlalchemy as sa
from alembic import op

revision = "e1a0c0de0105"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.create_table(
        "tags",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="tags_pkey"),
        sa.UniqueConstraint("name", name="tags_name_key"),
    )
    op.create_table(
        "itinerary_tags",
        sa.Column(
            "itinerary_id",
            sa.BigInteger(),
            sa.ForeignKey(
                "itineraries.id", name="itinerary_tags_itinerary_id_fkey", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column(
            "tag_id",
            sa.BigInteger(),
            sa.ForeignKey("tags.id", name="itinerary_tags_tag_id_fkey", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("itinerary_id", "tag_id", name="itinerary_tags_pkey"),
    )
    op.create_index("itinerary_tags_tag_id_idx", "itinerary_tags", ["tag_id"])


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_table("itinerary_tags")
    op.drop_table("tags")
