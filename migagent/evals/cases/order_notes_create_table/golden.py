"""create order_notes

A new, empty table: its index needs no CONCURRENTLY and its foreign key
validates instantly, but the FK takes a SHARE ROW EXCLUSIVE lock on the busy
orders table, so wait for it only briefly.
"""

from alembic import op

revision = "b2f0c0de0013"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        """
        CREATE TABLE order_notes (
            id BIGSERIAL PRIMARY KEY,
            order_id BIGINT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
            author TEXT NOT NULL,
            body TEXT NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX order_notes_order_id_idx ON order_notes (order_id)")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("DROP TABLE order_notes")
