"""users.display_name: add, backfill in batches, then require it

Revision ID: 0005display
Revises: 0004stats
Create Date: 2025-03-12 11:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0005display"
down_revision = "0004stats"
branch_labels = None
depends_on = None

BATCH = 25


def upgrade():
    op.add_column("users", sa.Column("display_name", sa.Text(), nullable=True))
    bind = op.get_bind()
    while True:
        done = bind.execute(
            sa.text(
                """
                UPDATE users SET display_name = split_part(full_name, ' ', 1)
                WHERE id IN (SELECT id FROM users WHERE display_name IS NULL LIMIT :batch)
                """
            ),
            {"batch": BATCH},
        ).rowcount
        if done == 0:
            break
    op.execute(
        "ALTER TABLE users ADD CONSTRAINT ck_users_display_name_nn "
        "CHECK (display_name IS NOT NULL) NOT VALID"
    )
    op.execute("ALTER TABLE users VALIDATE CONSTRAINT ck_users_display_name_nn")
    op.alter_column("users", "display_name", nullable=False)
    op.drop_constraint("ck_users_display_name_nn", "users", type_="check")


def downgrade():
    op.drop_column("users", "display_name")
