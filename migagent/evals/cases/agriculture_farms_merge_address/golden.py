"""farms.address = street || ', ' || city; drop street and city

2,000 rows: one UPDATE is fine. concat_ws skips a missing part. The
downgrade re-adds street and city and splits the address back at the last
', '.
"""

import sqlalchemy as sa
from alembic import op

revision = "a9c0c0de0003"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("farms", sa.Column("address", sa.Text(), nullable=True))
    op.execute("UPDATE farms SET address = NULLIF(concat_ws(', ', street, city), '')")
    op.drop_column("farms", "street")
    op.drop_column("farms", "city")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("farms", sa.Column("street", sa.Text(), nullable=True))
    op.add_column("farms", sa.Column("city", sa.Text(), nullable=True))
    op.execute(
        "UPDATE farms SET street = regexp_replace(address, ', [^,]*$', ''), "
        "city = substring(address from ', ([^,]*)$') WHERE address IS NOT NULL"
    )
    op.drop_column("farms", "address")
