"""English full-text search over events.title and events.description

An expression GIN index (no new column, no table rewrite), built
CONCURRENTLY. Queries must use the same expression to hit it:
to_tsvector('english', title || ' ' || coalesce(description, '')).
"""

import sqlalchemy as sa
from alembic import op

revision = "f3e0c0de0303"
down_revision = None
branch_labels = None
depends_on = None

DOCUMENT = "to_tsvector('english', title || ' ' || coalesce(description, ''))"


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "events_search_fts_idx",
            "events",
            [sa.text(DOCUMENT)],
            postgresql_using="gin",
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index("events_search_fts_idx", table_name="events", postgresql_concurrently=True)
