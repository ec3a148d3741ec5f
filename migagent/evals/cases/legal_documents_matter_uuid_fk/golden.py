"""documents.matter_id -> matters.id ON DELETE CASCADE

matters.id is a uuid, so matter_id is one too. Nullable: existing documents
are not yet filed under a matter. The index keeps the cascade's lookups and
per-matter listings fast. Small tables: a plain index is fine.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "1e9ac0de0002"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("documents", sa.Column("matter_id", postgresql.UUID(), nullable=True))
    op.create_foreign_key(
        "documents_matter_id_fkey",
        "documents",
        "matters",
        ["matter_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index("documents_matter_id_idx", "documents", ["matter_id"])


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_index("documents_matter_id_idx", table_name="documents")
    op.drop_column("documents", "matter_id")
