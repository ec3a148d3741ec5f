"""initial schema (squashed)

Revision ID: 0001initial
Revises:
Create Date: 2025-01-10 09:00:00

"""

from alembic import op
from alembic_utils.pg_function import PGFunction
from alembic_utils.pg_trigger import PGTrigger

revision = "0001initial"
down_revision = None
branch_labels = None
depends_on = None

set_updated_at = PGFunction(
    schema="public",
    signature="set_updated_at()",
    definition="""RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$""",
)

tasks_updated_at = PGTrigger(
    schema="public",
    signature="tasks_set_updated_at",
    on_entity="public.tasks",
    definition="BEFORE UPDATE ON public.tasks FOR EACH ROW EXECUTE FUNCTION public.set_updated_at()",
)


def upgrade():
    op.execute('CREATE EXTENSION IF NOT EXISTS "uuid-ossp"')
    op.execute("CREATE EXTENSION IF NOT EXISTS citext")
    op.execute(
        """
        CREATE DOMAIN email_address AS citext
            CHECK (VALUE ~ '^[^@\\s]+@[^@\\s]+$');
        CREATE TYPE task_status AS ENUM ('todo', 'doing', 'done');
        CREATE TYPE money_amount AS (amount numeric(12, 2), currency char(3));

        CREATE TABLE organizations (
            id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
            name text NOT NULL,
            slug varchar(64) NOT NULL UNIQUE,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        COMMENT ON TABLE organizations IS 'Tenants';

        CREATE TABLE users (
            id bigserial PRIMARY KEY,
            organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
            email email_address NOT NULL,
            full_name text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT users_email_key UNIQUE (email)
        );
        CREATE INDEX ix_users_organization_id ON users (organization_id);
        COMMENT ON COLUMN users.full_name IS 'As the user typed it';

        CREATE TABLE projects (
            id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
            organization_id uuid NOT NULL REFERENCES organizations (id),
            name text NOT NULL,
            budget money_amount,
            archived boolean NOT NULL DEFAULT false
        );
        CREATE INDEX ix_projects_organization_id ON projects (organization_id);

        CREATE TABLE tasks (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
            assignee_id bigint REFERENCES users (id) ON DELETE SET NULL,
            title text NOT NULL,
            status task_status NOT NULL DEFAULT 'todo',
            due_on date,
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ix_tasks_project_id ON tasks (project_id);
        CREATE INDEX ix_tasks_assignee_id ON tasks (assignee_id);
        ALTER TABLE tasks ENABLE ROW LEVEL SECURITY;
        CREATE POLICY tasks_by_org ON tasks
            USING (project_id IN (SELECT id FROM projects
                                  WHERE organization_id::text = current_setting('app.org', true)));

        CREATE TABLE events (
            id bigserial,
            organization_id uuid NOT NULL,
            kind text NOT NULL,
            payload jsonb NOT NULL DEFAULT '{}',
            created_at timestamptz NOT NULL,
            PRIMARY KEY (id, created_at)
        ) PARTITION BY RANGE (created_at);
        CREATE TABLE events_2025_01 PARTITION OF events
            FOR VALUES FROM ('2025-01-01') TO ('2025-02-01');
        CREATE TABLE events_2025_02 PARTITION OF events
            FOR VALUES FROM ('2025-02-01') TO ('2025-03-01');

        CREATE VIEW open_tasks AS
            SELECT t.id, t.title, p.name AS project
            FROM tasks t JOIN projects p ON p.id = t.project_id
            WHERE t.status <> 'done';
        """
    )
    op.create_entity(set_updated_at)
    op.create_entity(tasks_updated_at)
    op.execute(
        """
        INSERT INTO organizations (id, name, slug)
        SELECT ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'Org ' || g, 'org-' || g
        FROM generate_series(1, 3) g;
        INSERT INTO users (organization_id, email, full_name)
        SELECT ('00000000-0000-4000-8000-' || lpad((1 + g % 3)::text, 12, '0'))::uuid,
               'user' || g || '@example.com', 'User Number ' || g
        FROM generate_series(1, 60) g;
        INSERT INTO projects (organization_id, name)
        SELECT ('00000000-0000-4000-8000-' || lpad((1 + g % 3)::text, 12, '0'))::uuid, 'Project ' || g
        FROM generate_series(1, 9) g;
        INSERT INTO tasks (project_id, assignee_id, title, status)
        SELECT p.id, 1 + (g % 60), 'Task ' || g, (ARRAY['todo', 'doing', 'done'])[1 + g % 3]::task_status
        FROM generate_series(1, 300) g
        JOIN LATERAL (SELECT id FROM projects ORDER BY name OFFSET g % 9 LIMIT 1) p ON true;
        INSERT INTO events (organization_id, kind, created_at)
        SELECT ('00000000-0000-4000-8000-' || lpad((1 + g % 3)::text, 12, '0'))::uuid, 'login',
               timestamptz '2025-01-01' + g * interval '3 hours'
        FROM generate_series(1, 400) g;
        """
    )


def downgrade():
    op.drop_entity(tasks_updated_at)
    op.drop_entity(set_updated_at)
    op.execute(
        """
        DROP VIEW open_tasks;
        DROP TABLE events;
        DROP TABLE tasks;
        DROP TABLE projects;
        DROP TABLE users;
        DROP TABLE organizations;
        DROP TYPE money_amount;
        DROP TYPE task_status;
        DROP DOMAIN email_address;
        DROP EXTENSION citext;
        DROP EXTENSION "uuid-ossp";
        """
    )
