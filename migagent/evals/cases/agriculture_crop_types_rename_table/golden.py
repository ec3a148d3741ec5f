"""rename table crop_types -> crops

Catalog-only; the foreign key from plantings follows the table. Index and
constraint names keep their crop_types_ prefix (renaming them is optional).
"""

from alembic import op

revision = "a9c0c0de0002"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.rename_table("crop_types", "crops")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.rename_table("crops", "crop_types")
