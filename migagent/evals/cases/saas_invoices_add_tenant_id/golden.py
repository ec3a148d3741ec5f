"""invoices.tenant_id -> tenants.id

tenants.id is a uuid, so tenant_id is a uuid too. The column is added
nullable (catalog-only: existing invoices have no tenant yet), the foreign key
NOT VALID and then validated, and the index every per-tenant query and the
FK's delete check need is built CONCURRENTLY.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "5aa5c0de0002"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("invoices", sa.Column("tenant_id", postgresql.UUID(), nullable=True))
    op.execute(
        "ALTER TABLE invoices ADD CONSTRAINT invoices_tenant_id_fkey "
        "FOREIGN KEY (tenant_id) REFERENCES tenants (id) NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE invoices VALIDATE CONSTRAINT invoices_tenant_id_fkey")
        op.execute("CREATE INDEX CONCURRENTLY invoices_tenant_id_idx ON invoices (tenant_id)")


def downgrade():
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS invoices_tenant_id_idx")
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_column("invoices", "tenant_id")
