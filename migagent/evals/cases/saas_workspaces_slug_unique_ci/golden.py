"""workspaces: slug unique ignoring case

A unique index on lower(slug), built CONCURRENTLY (2.4M rows, no write lock).
An expression cannot back a UNIQUE constraint, so the index is the rule.
"""

from alembic import op

revision = "5aa5c0de0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.execute(
            "CREATE UNIQUE INDEX CONCURRENTLY workspaces_slug_lower_key ON workspaces (lower(slug))"
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS workspaces_slug_lower_key")
