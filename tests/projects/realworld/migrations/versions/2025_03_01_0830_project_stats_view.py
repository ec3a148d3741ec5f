"""materialized view of task counts per project

Revision ID: 0004stats
Revises: 0003indexes
Create Date: 2025-03-01 08:30:00

"""

from alembic import op

revision = "0004stats"
down_revision = "0003indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        """
        CREATE MATERIALIZED VIEW project_stats AS
            SELECT project_id, status, count(*) AS tasks
            FROM tasks GROUP BY project_id, status
        WITH DATA
        """
    )
    op.execute("CREATE UNIQUE INDEX ux_project_stats ON project_stats (project_id, status)")


def downgrade():
    op.execute("DROP MATERIALIZED VIEW project_stats")
