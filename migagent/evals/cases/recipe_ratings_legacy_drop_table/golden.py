"""drop recipe_ratings_legacy

Dropping the table takes a brief ACCESS EXCLUSIVE lock on it and on recipes
(its foreign key points there), so a lock timeout guards it. The downgrade
recreates the table exactly as it was (columns, sequence, constraint and
index names); the ratings themselves are gone.
"""

from alembic import op

revision = "f4e0c0de0404"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("DROP TABLE recipe_ratings_legacy")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        """
        CREATE TABLE recipe_ratings_legacy (
            id SERIAL PRIMARY KEY,
            recipe_id BIGINT NOT NULL REFERENCES recipes (id) ON DELETE CASCADE,
            user_id BIGINT NOT NULL,
            stars SMALLINT NOT NULL CHECK (stars BETWEEN 1 AND 5),
            comment TEXT,
            rated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            UNIQUE (recipe_id, user_id)
        )
        """
    )
    op.execute("CREATE INDEX recipe_ratings_legacy_user_id_idx ON recipe_ratings_legacy (user_id)")
