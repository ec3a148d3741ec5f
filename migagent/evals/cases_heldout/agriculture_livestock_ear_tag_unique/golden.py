"""UNIQUE (farm_id, ear_tag) on livestock

The unique index is built CONCURRENTLY and attached as the constraint.
"""

from alembic import op

revision = "4e1dc0de0006"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.execute(
            "CREATE UNIQUE INDEX CONCURRENTLY livestock_farm_id_ear_tag_key "
            "ON livestock (farm_id, ear_tag)"
        )
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE livestock ADD CONSTRAINT livestock_farm_id_ear_tag_key "
        "UNIQUE USING INDEX livestock_farm_id_ear_tag_key"
    )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("ALTER TABLE livestock DROP CONSTRAINT livestock_farm_id_ear_tag_key")
