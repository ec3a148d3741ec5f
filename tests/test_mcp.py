"""`migagent mcp`: the toolbox over MCP stdio, called with the MCP SDK's own client.

Every test starts the real server as a subprocess (`migagent mcp`) and talks
to it through `mcp.client.stdio.stdio_client` + `ClientSession`, on each
sandbox server.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from mcp import types
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from migagent.prompts import TOOL_NAMES, tool_description

# slow: about 30 s on 2 cores: the MCP server, proving revisions
pytestmark = pytest.mark.slow

MIGAGENT = str(Path(sys.executable).parent / "migagent")

SCHEMA = """
CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL
);
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id),
    total numeric(12, 2) NOT NULL DEFAULT 0
);
INSERT INTO users (email) SELECT 'u' || g || '@example.com' FROM generate_series(1, 50) g;
"""

GOOD_REVISION = '''\
"""add status to orders

Revision ID: b2status
"""
import sqlalchemy as sa
from alembic import op

revision = "b2status"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("status", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("orders", "status")
'''

LOSSY_DOWNGRADE = GOOD_REVISION.replace('op.drop_column("orders", "status")', "pass")

BLOCKING_INDEX = GOOD_REVISION.replace(
    'op.add_column("orders", sa.Column("status", sa.Text(), nullable=True))',
    'op.create_index("ix_users_email", "users", ["email"])',
).replace('op.drop_column("orders", "status")', 'op.drop_index("ix_users_email", "users")')

SPEC = {
    "purpose": {"summary": "Add status to orders"},
    "alembic": {"file_name": "2025_01_15_1430_add_status_to_orders.py", "revision": "b2status"},
}


@pytest.fixture
def schema_file(tmp_path: Path) -> Path:
    path = tmp_path / "schema.sql"
    path.write_text(SCHEMA)
    return path


@asynccontextmanager
async def connect(*args: str, cwd: Path | None = None):
    env = {
        "MIGAGENT_DATABASE_URL": "",
        "DATABASE_URL": "",
        **{k: v for k, v in os.environ.items() if k.startswith("MIGAGENT_HOME")},
    }
    params = StdioServerParameters(command=MIGAGENT, args=["mcp", *args], env=env, cwd=cwd)
    with open(os.devnull, "w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


def text_of(result: types.CallToolResult) -> str:
    return "".join(c.text for c in result.content if isinstance(c, types.TextContent))


def run(coro_fn) -> None:
    anyio.run(coro_fn)


def test_lists_the_toolbox_tools_with_descriptions_and_schemas(schema_file: Path, sandbox) -> None:
    async def main() -> None:
        async with connect("--schema-file", str(schema_file), "--sandbox-url", sandbox.url) as s:
            init = s._initialize_result
            assert init is not None and init.server_info.name == "migagent"
            assert "scratch" in (init.instructions or "")
            listed = {t.name: t for t in (await s.list_tools()).tools}
            assert set(listed) == {*TOOL_NAMES, "check_migrations"}
            for name in TOOL_NAMES:
                tool = listed[name]
                assert tool.description == tool_description(name)
                assert tool.output_schema and tool.output_schema["type"] == "object"
            assert listed["describe_table"].input_schema["required"] == ["table"]
            assert listed["query_target"].annotations.read_only_hint is True
            # writes (and may destroy) a throwaway copy on the sandbox; never the target
            for name in ("run_sql_in_scratch", "verify_revision", "estimate_revision"):
                hints = listed[name].annotations
                assert hints.read_only_hint is False and hints.destructive_hint is True
                assert hints.open_world_hint is False
            submit = listed["submit_draft"].input_schema
            assert set(submit["required"]) == {"revision_source", "spec"}

    run(main)


def test_schema_tools_answer_with_structured_results(schema_file: Path, sandbox) -> None:
    async def main() -> None:
        async with connect("--schema-file", str(schema_file), "--sandbox-url", sandbox.url) as s:
            summary = await s.call_tool("introspect_schema", {})
            assert not summary.is_error, text_of(summary)
            tables = {t["name"]: t for t in summary.structured_content["tables"]}
            assert set(tables) == {"public.users", "public.orders"}
            # The text content carries the same JSON for clients without structured output.
            assert json.loads(text_of(summary))["tables"] == summary.structured_content["tables"]

            described = await s.call_tool("describe_table", {"table": "users"})
            assert not described.is_error
            data = described.structured_content
            assert [c["name"] for c in data["table"]["columns"]] == ["id", "email"]
            assert [r["table"] for r in data["referenced_by"]] == ["public.orders"]

            stats = await s.call_tool("table_stats", {"tables": ["users", "nope"]})
            assert not stats.is_error
            (users,) = stats.structured_content["tables"]
            assert users["rows"] == 50 and users["large"] is False
            assert stats.structured_content["not_found"] == ["nope"]

            missing = await s.call_tool("describe_table", {"table": "nope"})
            assert missing.is_error
            assert "no table named 'nope'" in text_of(missing) and "public.users" in text_of(
                missing
            )

            query = await s.call_tool("query_target", {"sql": "SELECT count(*) AS n FROM users"})
            assert query.structured_content["rows"] == [[50]]
            refused = await s.call_tool("query_target", {"sql": "DELETE FROM users"})
            assert refused.is_error and "only SELECT or EXPLAIN" in text_of(refused)
            bad_args = await s.call_tool("query_target", {"sql": "SELECT 1", "limit": 0})
            assert bad_args.is_error

            scratch = await s.call_tool(
                "run_sql_in_scratch",
                {"sql": "DELETE FROM users; SELECT count(*) FROM users"},
            )
            assert scratch.structured_content["ok"] is True
            assert scratch.structured_content["results"][1]["rows"] == [[0]]
            # ... on a throwaway copy: the schema's own rows are untouched.
            again = await s.call_tool("query_target", {"sql": "SELECT count(*) FROM users"})
            assert again.structured_content["rows"] == [[50]]

    run(main)


def test_proof_tools_and_submit(schema_file: Path, sandbox) -> None:
    async def main() -> None:
        async with connect("--schema-file", str(schema_file), "--sandbox-url", sandbox.url) as s:
            early = await s.call_tool(
                "submit_draft", {"revision_source": GOOD_REVISION, "spec": SPEC}
            )
            assert early.is_error and "has not been verified" in text_of(early)

            lossy = await s.call_tool("verify_revision", {"source": LOSSY_DOWNGRADE})
            assert not lossy.is_error
            assert lossy.structured_content["ok"] is False
            assert "status" in lossy.structured_content["summary"]

            lint = await s.call_tool("lint_revision", {"source": BLOCKING_INDEX})
            rules = {f["rule"] for f in lint.structured_content["details"]["findings"]}
            assert "index-not-concurrent" in rules

            good = await s.call_tool("verify_revision", {"source": GOOD_REVISION})
            assert good.structured_content["ok"] is True, good.structured_content

            bad_spec = await s.call_tool(
                "submit_draft", {"revision_source": GOOD_REVISION, "spec": {"purpose": {}}}
            )
            assert bad_spec.is_error

            done = await s.call_tool(
                "submit_draft", {"revision_source": GOOD_REVISION, "spec": SPEC}
            )
            assert not done.is_error, text_of(done)
            result = done.structured_content
            assert result["accepted"] is True
            assert result["spec_path"] == "docs/migrations/2025_01_15_1430_add_status_to_orders.md"
            assert "Add status to orders" in result["spec_markdown"]
            assert "op.add_column" in result["spec_markdown"]

    run(main)


def test_without_a_database_the_tools_say_what_to_set(tmp_path: Path) -> None:
    async def main() -> None:
        async with connect(cwd=tmp_path) as s:
            tools = (await s.list_tools()).tools  # the server is up without a database
            assert len(tools) == len(TOOL_NAMES) + 1
            result = await s.call_tool("introspect_schema", {})
            assert result.is_error
            assert "MIGAGENT_DATABASE_URL" in text_of(result)

    run(main)


def test_check_migrations_tool(tmp_path: Path, sandbox) -> None:
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    (tmp_path / "migrations" / "env.py").write_text("")
    (versions / "2025_01_15_1430_add_status_to_orders.py").write_text(
        textwrap.dedent(GOOD_REVISION)
        .replace(
            'op.add_column("orders"',
            'op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True))\n'
            '    op.add_column("orders"',
        )
        .replace(
            'op.drop_column("orders", "status")',
            'op.drop_column("orders", "status")\n    op.drop_table("orders")',
        )
    )

    async def main() -> None:
        async with connect("--sandbox-url", sandbox.url, "--project", str(tmp_path)) as s:
            result = await s.call_tool("check_migrations", {})
            assert not result.is_error, text_of(result)
            report = result.structured_content
            assert report["passed"] is True
            assert report["heads"] == ["b2status"]
            (rev,) = report["revisions"]
            assert rev["roundtrip"] == "passed"
            assert rev["warnings"] == [
                "no migration spec: expected "
                "docs/migrations/2025_01_15_1430_add_status_to_orders.md"
            ]

    run(main)
