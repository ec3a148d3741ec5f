"""case-insensitive uniqueness of ingredients.name

A unique index on lower(name): an expression cannot back a UNIQUE
constraint. Built CONCURRENTLY so the importer is not blocked.
"""

import sqlalchemy as sa
from alembic import op

revision = "f4e0c0de0401"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "ingredients_name_lower_key",
            "ingredients",
            [sa.text("lower(name)")],
            unique=True,
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index(
            "ingredients_name_lower_key", table_name="ingredients", postgresql_concurrently=True
        )
