"""expression index on upper(certificates.verification_code)

Matches the lookup's WHERE upper(verification_code) = upper($1). Not
unique: the request asks for speed, not a new rule. Built CONCURRENTLY.
"""

import sqlalchemy as sa
from alembic import op

revision = "f6e0c0de0604"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "certificates_verification_code_upper_idx",
            "certificates",
            [sa.text("upper(verification_code)")],
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index(
            "certificates_verification_code_upper_idx",
            table_name="certificates",
            postgresql_concurrently=True,
        )
