"""parcels.depot_id -> depots.id (uuid, like depots.id)

1. add the column nullable: catalog-only;
2. index it CONCURRENTLY (deletes on depots and the validation need it);
3. add the FK NOT VALID (brief lock), VALIDATE in its own transaction.
"""

import sqlalchemy as sa
from alembic import op

revision = "e1a0c0de0101"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("parcels", sa.Column("depot_id", sa.Uuid(), nullable=True))
    with op.get_context().autocommit_block():
        op.create_index(
            "parcels_depot_id_idx", "parcels", ["depot_id"], postgresql_concurrently=True
        )
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE parcels ADD CONSTRAINT parcels_depot_id_fkey "
        "FOREIGN KEY (depot_id) REFERENCES depots (id) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE parcels VALIDATE CONSTRAINT parcels_depot_id_fkey")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_constraint("parcels_depot_id_fkey", "parcels", type_="foreignkey")
    with op.get_context().autocommit_block():
        op.drop_index("parcels_depot_id_idx", table_name="parcels", postgresql_concurrently=True)
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("parcels", "depot_id")
