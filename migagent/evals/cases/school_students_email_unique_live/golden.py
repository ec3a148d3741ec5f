"""students.email unique among non-deleted students

A partial unique index (WHERE deleted_at IS NULL), built CONCURRENTLY;
withdrawn records may keep duplicates.
"""

from alembic import op

revision = "5c00c0de0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.execute(
            "CREATE UNIQUE INDEX CONCURRENTLY students_email_live_key ON students (email) "
            "WHERE deleted_at IS NULL"
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS students_email_live_key")
