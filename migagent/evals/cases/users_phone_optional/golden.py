"""users.phone DROP NOT NULL

Catalog-only. The downgrade's SET NOT NULL would scan 3M rows under ACCESS
EXCLUSIVE, so it goes through a validated CHECK like any other SET NOT NULL
(and fails if NULL phones have appeared since).
"""

from alembic import op

revision = "f6f0c0de0048"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("users", "phone", nullable=True)


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE users ADD CONSTRAINT users_phone_not_null_chk "
        "CHECK (phone IS NOT NULL) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE users VALIDATE CONSTRAINT users_phone_not_null_chk")
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("users", "phone", nullable=False)
    op.execute("ALTER TABLE users DROP CONSTRAINT users_phone_not_null_chk")
