"""add 'refunded' to order_status after 'delivered'

ADD VALUE touches only the catalog. PostgreSQL cannot drop an enum value, so
the downgrade rebuilds the type (a rewrite of orders) and refuses to run
while any order is still 'refunded'.
"""

from alembic import op

revision = "d4f0c0de0031"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded' AFTER 'delivered'")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        """
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM orders WHERE status::text = 'refunded') THEN
                RAISE EXCEPTION 'orders still use order_status ''refunded''; move them first';
            END IF;
        END
        $$
        """
    )
    op.execute("ALTER TYPE order_status RENAME TO order_status_old")
    op.execute(
        "CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'delivered', 'cancelled')"
    )
    op.execute("ALTER TABLE orders ALTER COLUMN status DROP DEFAULT")
    op.execute(
        "ALTER TABLE orders ALTER COLUMN status TYPE order_status USING status::text::order_status"
    )
    op.execute("ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'pending'")
    op.execute("DROP TYPE order_status_old")
