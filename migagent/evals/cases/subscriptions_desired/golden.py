"""subscriptions -> desired.sql

- plan varchar(20) -> text: binary-coercible, no rewrite;
- renews_at, seats: catalog-only adds (constant default);
- seats > 0: CHECK added NOT VALID, validated in its own transaction;
- customer_id index: CONCURRENTLY.
"""

import sqlalchemy as sa
from alembic import op

revision = "e5f0c0de0041"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column(
        "subscriptions",
        "plan",
        type_=sa.Text(),
        existing_type=sa.String(20),
        existing_nullable=False,
    )
    op.add_column("subscriptions", sa.Column("renews_at", sa.DateTime(timezone=True)))
    op.add_column(
        "subscriptions",
        sa.Column("seats", sa.Integer(), nullable=False, server_default=sa.text("1")),
    )
    op.execute(
        "ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_seats_positive "
        "CHECK (seats > 0) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE subscriptions VALIDATE CONSTRAINT subscriptions_seats_positive")
        op.create_index(
            "subscriptions_customer_id_idx",
            "subscriptions",
            ["customer_id"],
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index(
            "subscriptions_customer_id_idx",
            table_name="subscriptions",
            postgresql_concurrently=True,
        )
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_constraint("subscriptions_seats_positive", "subscriptions", type_="check")
    op.drop_column("subscriptions", "seats")
    op.drop_column("subscriptions", "renews_at")
    op.alter_column(
        "subscriptions",
        "plan",
        type_=sa.String(20),
        existing_type=sa.Text(),
        existing_nullable=False,
        postgresql_using="plan::varchar(20)",
    )
