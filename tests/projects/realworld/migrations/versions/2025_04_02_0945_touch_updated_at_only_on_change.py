"""set_updated_at(): only touch updated_at when the row changed

Revision ID: 0006trigger
Revises: 0005display
Create Date: 2025-04-02 09:45:00

"""

from alembic import op
from alembic_utils.pg_function import PGFunction

revision = "0006trigger"
down_revision = "0005display"
branch_labels = None
depends_on = None

OLD = PGFunction(
    schema="public",
    signature="set_updated_at()",
    definition="""RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$""",
)

NEW = PGFunction(
    schema="public",
    signature="set_updated_at()",
    definition="""RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW IS DISTINCT FROM OLD THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$""",
)


def upgrade():
    op.replace_entity(NEW)


def downgrade():
    op.replace_entity(OLD)
