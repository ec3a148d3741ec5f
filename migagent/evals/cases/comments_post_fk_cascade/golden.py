"""FK comments.post_id -> posts.id ON DELETE CASCADE

comments_post_id_idx already supports the FK. NOT VALID + VALIDATE keeps the
locks short even though the table is small.
"""

from alembic import op

revision = "e5f0c0de0043"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE comments ADD CONSTRAINT comments_post_id_fkey "
        "FOREIGN KEY (post_id) REFERENCES posts (id) ON DELETE CASCADE NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE comments VALIDATE CONSTRAINT comments_post_id_fkey")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_constraint("comments_post_id_fkey", "comments", type_="foreignkey")
