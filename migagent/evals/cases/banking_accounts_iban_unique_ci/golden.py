"""accounts: IBAN unique, ignoring case

A unique expression index on lower(iban), built CONCURRENTLY so writes go on.
The plain accounts_iban_idx stays (exact-match lookups use it).
"""

from alembic import op

revision = "e1a0c0de0102"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.execute(
            "CREATE UNIQUE INDEX CONCURRENTLY accounts_iban_lower_key ON accounts (lower(iban))"
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY accounts_iban_lower_key")
