"""drop legacy_reviews; the downgrade recreates it empty with the same shape"""

import sqlalchemy as sa
from alembic import op

revision = "7e5c0de00012"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_table("legacy_reviews")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.create_table(
        "legacy_reviews",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), primary_key=True),
        sa.Column("title_id", sa.Integer(), sa.ForeignKey("titles.id"), nullable=False),
        sa.Column("reviewer", sa.Text(), nullable=False),
        sa.Column("stars", sa.SmallInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column(
            "reviewed_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
    )
    op.create_index("legacy_reviews_title_id_idx", "legacy_reviews", ["title_id"])
