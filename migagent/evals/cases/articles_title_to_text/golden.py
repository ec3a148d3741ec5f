"""articles.title: varchar(200) -> text

varchar -> text is binary-coercible: no rewrite, no index rebuild.
"""

import sqlalchemy as sa
from alembic import op

revision = "b2f0c0de0019"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column(
        "articles", "title", type_=sa.Text(), existing_type=sa.String(200), existing_nullable=False
    )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column(
        "articles",
        "title",
        type_=sa.String(200),
        existing_type=sa.Text(),
        existing_nullable=False,
        postgresql_using="title::varchar(200)",
    )
