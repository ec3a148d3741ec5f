"""Every tool result fits the result budget, on 1,000 and 5,000 tables.

The schema is generated here (hub tables every other table points at, a few
views and enums) and loaded once per size into the sandbox. What is measured
is what the model reads: the JSON `claude_tools` sends as the tool result
(`toolbox.result_json`), or the error text of a refused call. One end-to-end
draft on 1,000 tables runs against the scripted fake Messages API.
"""

from __future__ import annotations

import json

import pytest
from fake_anthropic import FakeAnthropic, Request, reply, text, tool_use

from migagent.agent import claude_tools
from migagent.agent.claude import (
    CACHE_READ_WEIGHT,
    ClaudeSettings,
    budget_tokens,
    draft_with_claude,
    system_blocks,
)
from migagent.agent.toolbox import (
    MAX_STATS_TABLES,
    RESULT_BUDGET_CHARS,
    Toolbox,
    ToolboxError,
    result_json,
)
from migagent.prompts import TOOL_NAMES, load_prompt, tool_description
from migagent.spec import TokenUsage

pytestmark = pytest.mark.slow

BUDGET = RESULT_BUDGET_CHARS
REQUEST = "add a nullable nickname column to users and index orders by created_at"


def schema_sql(n: int) -> str:
    """`n` tables: users, orders, order_items, then t_00004.. each pointing at users."""
    out = [
        "CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped', 'cancelled');",
        "CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, "
        "created_at timestamptz NOT NULL DEFAULT now());",
        "CREATE TABLE orders (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users, "
        "status order_status NOT NULL DEFAULT 'new', created_at timestamptz NOT NULL DEFAULT now());",
        "CREATE TABLE order_items (id bigserial PRIMARY KEY, order_id bigint NOT NULL "
        "REFERENCES orders, sku text NOT NULL, quantity integer NOT NULL CHECK (quantity > 0));",
    ]
    for i in range(4, n + 1):
        name = f"t_{i:05d}_customer_event_log"
        out.append(
            f"CREATE TABLE {name} (id bigserial PRIMARY KEY, "
            f"user_id bigint REFERENCES users, payload jsonb, note text, "
            f"amount numeric(12,2) DEFAULT 0, created_at timestamptz DEFAULT now());"
        )
        out.append(f"CREATE INDEX {name[:40]}_user_idx ON {name} (user_id);")
        if i % 100 == 0:
            out.append(f"CREATE VIEW v_{i:05d}_recent_events AS SELECT id, note FROM {name};")
        if i % 250 == 0:
            out.append(f"CREATE TYPE state_{i:05d} AS ENUM ('a', 'b', 'c');")
    out.append(
        "INSERT INTO users (email) SELECT 'u' || g || '@example.com' FROM generate_series(1, 50) g;"
    )
    return "\n".join(out)


@pytest.fixture(scope="module", params=[1_000, 5_000], ids=["1k", "5k"])
def big(request, sandbox):
    """(number of tables, a toolbox over them), the schema loaded once per size."""
    n = request.param
    template = sandbox.template_from_sql(schema_sql(n), source=f"{n} tables")
    box = Toolbox(
        sandbox=sandbox,
        template=template,
        source_label=f"generated schema of {n} tables",
        rows={"users": 5_000_000, "orders": 20_000_000},
    )
    box.request = REQUEST
    assert len(box.snapshot.tables) == n
    return n, box


def size_of(result) -> int:
    return len(result_json(result))


def call_json(box: Toolbox, tool: str, **args) -> str:
    """What the Claude backend sends back for one call: the result JSON or the error text."""
    try:
        return claude_tools._call(box, tool, args)
    except Exception as exc:  # ToolError: the text the model reads
        return str(exc)


# ------------------------------------------------------------------ introspect_schema
def test_introspect_schema_leads_with_the_named_tables_and_pages_the_rest(big):
    n, box = big
    first = box.introspect_schema()
    assert size_of(first) <= BUDGET
    detailed = [t.name for t in first.tables]
    assert detailed[:2] == ["public.orders", "public.users"]  # named by the request
    assert "public.order_items" in detailed  # points at orders: implied
    assert first.tables_total == n and 1 < first.pages <= n // 50  # ~90 lines a page
    assert "introspect_schema(page=N)" in first.note and "filter=" in first.note
    seen = set(detailed) | {line.split(":")[0] for line in first.other_tables}
    for page in range(2, first.pages + 1):
        more = box.introspect_schema(page=page)
        assert size_of(more) <= BUDGET and not more.tables
        seen |= {line.split(":")[0] for line in more.other_tables}
    assert len(seen) == n  # every table is on some page, once
    with pytest.raises(ToolboxError, match="does not exist"):
        box.introspect_schema(page=first.pages + 1)


def test_introspect_schema_filter(big):
    n, box = big
    only = box.introspect_schema(filter="order")
    assert size_of(only) <= BUDGET
    assert {t.name for t in only.tables} == {"public.orders", "public.order_items"}
    assert list(only.enums) == ["public.order_status"]
    globbed = box.introspect_schema(filter="t_0000*")
    assert size_of(globbed) <= BUDGET and globbed.tables_total == 6
    none = box.introspect_schema(filter="invoices")
    assert none.tables_total == 0 and "no table matches" in none.note
    everything = box.introspect_schema(filter="customer")
    assert size_of(everything) <= BUDGET and everything.tables_total == n - 3


# --------------------------------------------------------------------- describe_table
def test_describe_table_of_a_hub_is_cut_and_says_so(big):
    n, box = big
    text = call_json(box, "describe_table", table="users")
    assert len(text) <= BUDGET
    data = json.loads(text)
    assert [c["name"] for c in data["table"]["columns"]] == ["id", "email", "created_at"]
    assert f"referenced_by: {n - 3:,} of {n - 2:,} left out" not in data["note"]
    assert "referenced_by:" in data["note"] and f"of {n - 2:,} left out" in data["note"]
    assert len(call_json(box, "describe_table", table="orders")) <= BUDGET


def test_describe_unknown_table_suggests_the_closest_names(big):
    n, box = big
    message = call_json(box, "describe_table", table="user")
    assert message.startswith("no table named 'user'")
    assert "public.users" in message and f"of {n:,} tables" in message
    assert len(message) < 1_000
    typo = call_json(box, "describe_table", table="order_itmes")
    assert "public.order_items" in typo and len(typo) < 1_000
    nothing = call_json(box, "describe_table", table="zzqx")
    assert "No similar names" in nothing and len(nothing) < 1_000


# ------------------------------------------------------------------------ table_stats
def test_table_stats_of_every_table_answers_a_page(big):
    n, box = big
    names = sorted(box.snapshot.tables)
    text = call_json(box, "table_stats", tables=[*names, "nope"])
    assert len(text) <= BUDGET
    data = json.loads(text)
    assert len(data["tables"]) <= MAX_STATS_TABLES
    assert f"of {n:,} tables" in data["note"] and "call table_stats again" in data["note"]
    assert data["not_found"] == ["nope"]
    missing = call_json(box, "table_stats", tables=[f"nope_{i}" for i in range(3_000)])
    assert missing.startswith("no such tables") and len(missing) < 1_500


# ------------------------------------------------------------------------ query_target
def test_query_target_caps_its_characters_and_says_what_it_cut(big):
    _, box = big
    sql = "SELECT c.relname, repeat('x', 400) AS filler FROM pg_class c ORDER BY c.relname"
    text = call_json(box, "query_target", sql=sql, limit=1000)
    assert len(text) <= BUDGET
    data = json.loads(text)
    assert data["truncated"] is True and data["row_count"] == 1000
    kept = len(data["rows"])
    assert 10 < kept < 1000
    assert f"rows: {1000 - kept:,} of 1,000 left out" in data["note"]
    assert "LIMIT/OFFSET" in data["note"]
    wide = call_json(
        box,
        "query_target",
        sql="SELECT repeat('y', 450) AS a, "
        + ", ".join(f"repeat('z', 450) AS c{i}" for i in range(60)),
    )
    assert len(wide) <= BUDGET and "left out" in json.loads(wide)["note"]


def test_run_sql_in_scratch_stays_in_the_budget(big):
    _, box = big
    sql = (
        "SELECT g, repeat('x', 400) FROM generate_series(1, 1000) g; "
        "SELECT relname FROM pg_class ORDER BY 1"
    )
    text = call_json(box, "run_sql_in_scratch", sql=sql)
    assert len(text) <= BUDGET
    if "max_locks_per_transaction" in text:
        # the fenced copy hands every table to its role in one transaction: on a server
        # with the default max_locks_per_transaction that fails on 5,000 tables (a
        # sandbox limit, reported as such, within the budget)
        pytest.skip(text[:200])
    assert "left out" in json.loads(text)["note"]


# --------------------------------------------------------------- verify, lint, estimate
def _revision(body: str, down: str = "    pass") -> str:
    return (
        '"""many changes\n\nRevision ID: 0a1b2c3d4e5f\nRevises:\nCreate Date: 2026-12-01\n"""\n\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        'revision = "0a1b2c3d4e5f"\ndown_revision = None\nbranch_labels = None\n'
        "depends_on = None\n\n\ndef upgrade() -> None:\n"
        + body
        + "\n\n\ndef downgrade() -> None:\n"
        + down
        + "\n"
    )


MANY_COLUMNS = _revision(
    "\n".join(
        f'    op.add_column("t_00004_customer_event_log", sa.Column("extra_{i:03d}_with_a_long_name", '
        "sa.Text(), nullable=True))"
        for i in range(30)
    ),
    "\n".join(
        f'    op.drop_column("t_00004_customer_event_log", "extra_{i:03d}_with_a_long_name")'
        for i in range(30)
    ),
)

MANY_BLOCKING_INDEXES = _revision(
    "\n".join(
        f'    op.create_index("users_created_at_{i:03d}_idx", "users", ["created_at"])'
        for i in range(120)
    ),
    "\n".join(f'    op.drop_index("users_created_at_{i:03d}_idx")' for i in range(120)),
)


def test_lint_of_many_findings_is_a_summary_within_the_budget(big):
    _, box = big
    text = call_json(box, "lint_revision", source=MANY_BLOCKING_INDEXES)
    assert len(text) <= BUDGET
    data = json.loads(text)
    assert data["ok"] is False and "error(s)" in data["summary"]
    assert data["details"]["findings"][0]["severity"] == "error"
    assert "call lint_revision again" in data["note"]


def test_verify_and_estimate_of_a_long_revision_stay_in_the_budget(big):
    n, box = big
    if n > 1_000:
        pytest.skip("the proof of a long revision on 5,000 tables is covered at 1,000")
    verified = call_json(box, "verify_revision", source=MANY_COLUMNS)
    assert len(verified) <= BUDGET, len(verified)
    assert json.loads(verified)["ok"] is True, verified[:2000]
    estimated = call_json(box, "estimate_revision", source=MANY_COLUMNS)
    assert len(estimated) <= BUDGET, len(estimated)


def test_estimates_off_means_no_estimate(big):
    _, box = big
    box.estimates = False
    try:
        data = json.loads(call_json(box, "estimate_revision", source=MANY_COLUMNS))
    finally:
        box.estimates = True
    assert (
        data["ok"] is True
        and "estimates are off for this draft (--no-estimate)" in (data["summary"])
    )


def test_read_project_doc_pages_a_big_architecture_file(big, tmp_path):
    from migagent.render.architecture import render_architecture

    _, box = big
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude" / "architecture.md").write_text(render_architecture(box.snapshot))
    box.project_dir = tmp_path
    try:
        first = json.loads(call_json(box, "read_project_doc", name="architecture"))
        assert first["pages"] > 10 and "page 1 of" in first["note"]
        last = call_json(box, "read_project_doc", name="architecture", page=first["pages"])
        assert len(last) <= BUDGET
        for page in (1, first["pages"] // 2):
            text = call_json(box, "read_project_doc", name="architecture", page=page)
            assert len(text) <= BUDGET
        conventions = json.loads(call_json(box, "read_project_doc", name="conventions"))
        assert conventions["path"] == "migagent's default conventions"
    finally:
        box.project_dir = None


def test_every_tool_was_measured():
    measured = {
        "introspect_schema",
        "describe_table",
        "table_stats",
        "query_target",
        "run_sql_in_scratch",
        "verify_revision",
        "lint_revision",
        "estimate_revision",
        "read_project_doc",
    }
    # submit_draft answers with one sentence (or a refusal naming one finding)
    assert set(TOOL_NAMES) - measured == {"submit_draft"}


# ------------------------------------------------------ a whole draft on 1,000 tables
GOOD = _revision(
    "    op.execute(\"SET LOCAL lock_timeout = '5s'\")\n"
    '    op.add_column("users", sa.Column("nickname", sa.Text(), nullable=True))',
    '    op.execute("SET LOCAL lock_timeout = \'5s\'")\n    op.drop_column("users", "nickname")',
)

SPEC = {
    "purpose": {"summary": "Add nickname to users", "migration_type": "Schema change"},
    "schema_changes": {"modify_table": {"value": True}, "details": ["add users.nickname text"]},
    "current_schema": {"value": "users (id, email, created_at)"},
    "desired_schema": {"value": "users (id, email, created_at, nickname)"},
    "rollback": {
        "procedure": "alembic downgrade -1 drops the column.",
        "rollback_sql": {"value": "ALTER TABLE users DROP COLUMN nickname;"},
    },
    "alembic": {
        "file_name": "2026_12_01_1000_add_nickname_to_users.py",
        "revision": "0a1b2c3d4e5f",
        "commands": "alembic upgrade head",
    },
}


def test_a_draft_on_1000_tables_against_the_fake_keeps_every_result_in_the_budget(big, tmp_path):
    n, box = big
    if n != 1_000:
        pytest.skip("one end-to-end draft, on 1,000 tables")
    sizes: list[int] = []

    def measured(step):
        def run(req: Request):
            for block in req.tool_results():
                content = block.get("content")
                if not isinstance(content, str):
                    content = "".join(b.get("text", "") for b in content or [])
                sizes.append(len(content))
            return step(req)

        return run

    script = [
        reply(tool_use("introspect_schema", {})),
        measured(lambda req: reply(tool_use("describe_table", {"table": "users"}))),
        measured(lambda req: reply(tool_use("table_stats", {"tables": ["users", "orders"]}))),
        measured(lambda req: reply(tool_use("verify_revision", {"source": GOOD}))),
        measured(lambda req: reply(tool_use("lint_revision", {"source": GOOD}))),
        measured(
            lambda req: reply(
                text("Verified and linted."),
                tool_use("submit_draft", {"revision_source": GOOD, "spec": SPEC}),
            )
        ),
    ]
    fresh = Toolbox(
        sandbox=box.sandbox,
        template=box.template,
        source_label=box.source_label,
        rows=dict(box.rows),
    )
    fresh._snapshot = box.snapshot
    with FakeAnthropic(script) as fake:
        settings = ClaudeSettings(api_key="k", base_url=fake.url, max_retries=0, max_turns=10)
        draft = draft_with_claude(REQUEST, fresh, settings=settings, project_dir=tmp_path)
    fake.assert_done()
    assert draft.verified
    assert len(sizes) == 5 and max(sizes) <= BUDGET, sizes


# ---------------------------------------------------------------- prompt and accounting
def test_the_prompt_states_the_budget_and_everything_it_names_is_reachable(tmp_path):
    system = load_prompt("system.md")
    assert f"{RESULT_BUDGET_CHARS:,} characters" in system
    sent = "".join(b["text"] for b in system_blocks(tmp_path))
    assert "# .claude/conventions.md" in sent  # sent
    assert "`read_project_doc`" in system and ".claude/architecture.md" in system
    assert "architecture" in tool_description("read_project_doc")
    submit = tool_description("submit_draft")
    assert "Call it once" not in submit and "submit again" in submit


def test_tool_descriptions_agree_with_their_schemas(sandbox):
    box = Toolbox.for_schema_sql("CREATE TABLE a (id int);", sandbox=sandbox)
    defs = {d["name"]: d for d in claude_tools.tool_definitions(box)}
    schema = defs["introspect_schema"]["input_schema"]["properties"]
    assert set(schema) == {"filter", "page"}
    assert "`filter`" in defs["introspect_schema"]["description"]
    assert "`page`" in defs["introspect_schema"]["description"]
    assert defs["table_stats"]["input_schema"]["properties"]["tables"]["type"] == "array"
    assert "a list" in defs["table_stats"]["description"]
    assert set(defs["read_project_doc"]["input_schema"]["properties"]) == {"name", "page"}


def test_cache_reads_count_at_a_tenth_of_the_token_budget():
    usage = TokenUsage(
        input_tokens=1_000,
        output_tokens=500,
        cache_creation_input_tokens=2_000,
        cache_read_input_tokens=100_000,
    )
    assert CACHE_READ_WEIGHT == 0.1
    assert budget_tokens(usage) == 1_000 + 500 + 2_000 + 10_000
    assert usage.total == 103_500  # the raw sum is still reported
