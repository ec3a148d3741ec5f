"""task_status gains 'blocked'

Revision ID: 0007blocked
Revises: 0006trigger
Create Date: 2025-04-20 16:30:00

A value cannot be removed from an enum, so the downgrade rebuilds the type,
mapping 'blocked' back to 'todo' and rebuilding what depends on it.
"""

from alembic import op

revision = "0007blocked"
down_revision = "0006trigger"
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.execute("ALTER TYPE task_status ADD VALUE IF NOT EXISTS 'blocked' AFTER 'doing'")


def downgrade():
    op.execute(
        """
        DROP VIEW open_tasks;
        DROP MATERIALIZED VIEW project_stats;
        DROP INDEX ix_tasks_open_due;
        ALTER TABLE tasks ALTER COLUMN status DROP DEFAULT;
        UPDATE tasks SET status = 'todo' WHERE status = 'blocked';
        ALTER TYPE task_status RENAME TO task_status_old;
        CREATE TYPE task_status AS ENUM ('todo', 'doing', 'done');
        ALTER TABLE tasks ALTER COLUMN status TYPE task_status USING status::text::task_status;
        ALTER TABLE tasks ALTER COLUMN status SET DEFAULT 'todo';
        DROP TYPE task_status_old;
        CREATE INDEX ix_tasks_open_due ON tasks (due_on) WHERE status <> 'done';
        CREATE VIEW open_tasks AS
            SELECT t.id, t.title, p.name AS project
            FROM tasks t JOIN projects p ON p.id = t.project_id
            WHERE t.status <> 'done';
        CREATE MATERIALIZED VIEW project_stats AS
            SELECT project_id, status, count(*) AS tasks
            FROM tasks GROUP BY project_id, status
        WITH DATA;
        CREATE UNIQUE INDEX ux_project_stats ON project_stats (project_id, status);
        """
    )
