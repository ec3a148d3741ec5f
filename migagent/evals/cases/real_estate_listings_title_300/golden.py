"""listings.title varchar(120) -> varchar(300)

Raising a varchar limit is catalog-only (no rewrite, no scan); only the short
ACCESS EXCLUSIVE lock matters, hence lock_timeout.
"""

import sqlalchemy as sa
from alembic import op

revision = "e1a0c0de0103"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("listings", "title", type_=sa.String(300), existing_type=sa.String(120))


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column(
        "listings",
        "title",
        type_=sa.String(120),
        existing_type=sa.String(300),
        postgresql_using="title::varchar(120)",
    )
