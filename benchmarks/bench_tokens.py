"""Claude context: what one draft puts into the conversation, in characters and tokens.

    python benchmarks/bench_tokens.py [--tables 100,1000,5000] [--sandbox-url URL]

For each size a schema is generated (the setup of tests/test_claude_budget.py:
users, orders, order_items, then tables that all point at users, a few views and
enums) and loaded once into a sandbox template. One scripted 8-turn draft then
runs through the real `run_claude` (the Anthropic SDK's tool runner, `thread=False`,
real tools on the real sandbox) against the fake Messages API of
tests/fake_anthropic.py, which records every request exactly as the SDK sent it:

    1 introspect_schema()            5 query_target(1,000 rows x 600-char cells)
    2 describe_table("users")        6 verify_revision(small revision)
    3 describe_table("user")         7 lint_revision(small revision)
    4 table_stats(40 tables)         8 submit_draft(revision, spec)

Measured from those requests: the fixed prefix (the `tools` array, the `system`
blocks, the first user message) and each tool result (the text of the
`tool_result` block of the next request) against `RESULT_BUDGET_CHARS`.

Tokens: no offline tokenizer is installed (the SDK's `count_tokens` is an API
call), so tokens are estimated as characters / 4 (rounded up) of the JSON text.

Cost of the draft, as `agent/claude.py` `budget_tokens` counts it: with
`thread=False` every request resends the whole conversation, and the top-level
`cache_control` caches it up to the end of each request. Modelled with a cold
cache: request 1 writes its whole prompt to the cache; request k reads
request k-1's prompt from the cache (weighted `CACHE_READ_WEIGHT` = 0.1) and
writes only what is new (the previous assistant turn and its tool results);
output is the assistant turns (tool calls) in full. "resent" is the sum of every
request's prompt, what an uncached conversation would pay.

The peer: the naive alternative of sending the whole schema's Markdown
(`migagent.render.architecture.render_architecture`, what `migagent introspect
--markdown` prints) as the one `introspect_schema` result, the rest of the
conversation unchanged; its ratio to the budgeted first page, and the draft's cost
with it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the fake Messages API

from fake_anthropic import FakeAnthropic, Request, reply, text, tool_use  # noqa: E402

from migagent.agent.claude import CACHE_READ_WEIGHT, ClaudeSettings, run_claude  # noqa: E402
from migagent.agent.toolbox import MAX_STATS_TABLES, RESULT_BUDGET_CHARS, Toolbox  # noqa: E402
from migagent.render.architecture import render_architecture  # noqa: E402
from migagent.tools.sandbox import Sandbox  # noqa: E402

REQUEST = "add a nullable nickname column to users and index orders by created_at"
CONTEXT_WINDOW = 200_000  # tokens: the model's standard context window


def tokens(chars: int) -> int:
    """Estimated tokens: characters / 4, rounded up (no offline tokenizer is installed)."""
    return math.ceil(chars / 4)


# ----------------------------------------------------------- tests/test_claude_budget.py
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


def _revision(body: str, down: str) -> str:
    return (
        '"""add nickname to users\n\nRevision ID: 0a1b2c3d4e5f\nRevises:\nCreate Date: 2026-12-01\n"""\n\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        'revision = "0a1b2c3d4e5f"\ndown_revision = None\nbranch_labels = None\n'
        "depends_on = None\n\n\ndef upgrade() -> None:\n"
        + body
        + "\n\n\ndef downgrade() -> None:\n"
        + down
        + "\n"
    )


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

QUERY = "SELECT g, repeat('x', 600) AS filler FROM generate_series(1, 1000) g"


# ------------------------------------------------------------------------ the draft
def script(names: list[str]) -> list[tuple[str, str, dict[str, Any]]]:
    """(row label, tool, input) for turns 1-8; the last one's result is never sent."""
    stats = (names * MAX_STATS_TABLES)[:MAX_STATS_TABLES]
    return [
        ("introspect_schema (first page)", "introspect_schema", {}),
        ("describe_table users", "describe_table", {"table": "users"}),
        ("describe_table 'user' (unknown)", "describe_table", {"table": "user"}),
        (f"table_stats of {len(stats)} tables", "table_stats", {"tables": stats}),
        (
            "query_target 1,000 rows x 600 chars",
            "query_target",
            {"sql": QUERY, "limit": 1000},
        ),
        ("verify_revision (small)", "verify_revision", {"source": GOOD}),
        ("lint_revision (small)", "lint_revision", {"source": GOOD}),
        ("submit_draft", "submit_draft", {"revision_source": GOOD, "spec": SPEC}),
    ]


def content_text(block: dict[str, Any]) -> str:
    content = block.get("content")
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") for b in content or [])


def jchars(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False))


def message_chars(messages: list[dict[str, Any]]) -> int:
    """What the model reads of `messages`: text and tool results as text, tool calls as
    their name and input JSON (the request body's own JSON escaping is not counted)."""
    total = 0
    for message in messages:
        content = message["content"]
        if isinstance(content, str):
            total += len(content)
            continue
        for block in content:
            if block["type"] == "text":
                total += len(block["text"])
            elif block["type"] == "tool_use":
                total += len(block["name"]) + jchars(block["input"])
            elif block["type"] == "tool_result":
                total += len(content_text(block))
    return total


def run_draft(sandbox: Sandbox, n: int) -> dict[str, Any]:
    t0 = time.monotonic()
    template = sandbox.template_from_sql(schema_sql(n), source=f"{n} tables")
    box = Toolbox(
        sandbox=sandbox,
        template=template,
        source_label=f"generated schema of {n} tables",
        rows={"users": 5_000_000, "orders": 20_000_000},
    )
    assert len(box.snapshot.tables) == n
    load_s = time.monotonic() - t0
    steps = script(sorted(box.snapshot.tables))
    turns = [[text("Looking."), tool_use(tool, args)] for _, tool, args in steps]
    # a 9th reply ends the run if submit_draft is refused (verify failed: see the README)
    fake_script = [reply(*content) for content in turns] + [reply(text("Stopping."))]
    with FakeAnthropic(fake_script) as fake, tempfile.TemporaryDirectory() as project:
        settings = ClaudeSettings(api_key="k", base_url=fake.url, max_retries=0, max_turns=10)
        run = run_claude(REQUEST, box, settings, project_dir=Path(project))
    assert not fake.errors, fake.errors
    requests: list[Request] = fake.model_calls[:8]
    assert len(requests) == 8
    first = requests[0].body
    prefix = {
        "tools": jchars(first["tools"]),
        "system": sum(len(b["text"]) for b in first["system"]),
        "first message": message_chars(first["messages"][:1]),
    }
    results = []
    for k, (label, tool, _) in enumerate(steps[:-1]):
        blocks = requests[k + 1].tool_results()
        assert len(blocks) == 1
        results.append(
            {
                "label": label,
                "tool": tool,
                "chars": len(content_text(blocks[0])),
                "error": bool(blocks[0].get("is_error")),
            }
        )
    prompts = [prefix["tools"] + prefix["system"] + message_chars(r.messages) for r in requests]
    assistant = [message_chars([{"content": content}]) for content in turns]
    markdown = render_architecture(box.snapshot)
    return {
        "n": n,
        "load_s": load_s,
        "status": run.status,
        "tool_errors": run.tool_errors,
        "prefix": prefix,
        "results": results,
        "prompts": prompts,
        "assistant": assistant,
        "markdown_chars": len(markdown),
    }


def cost(prompts: list[int], assistant: list[int]) -> dict[str, int]:
    """budget_tokens() of the draft with a cold cache (see the module docstring)."""
    writes = reads = 0
    prev = 0
    for p in prompts:
        t = tokens(p)
        writes += t - prev
        reads += prev
        prev = t
    output = sum(tokens(a) for a in assistant)
    return {
        "resent": sum(tokens(p) for p in prompts),
        "writes": writes,
        "reads": reads,
        "output": output,
        "budget": round(writes + output + CACHE_READ_WEIGHT * reads),
        "largest": max(tokens(p) for p in prompts),
    }


def naive(m: dict[str, Any]) -> list[int]:
    """The request sizes with the whole Markdown as the introspect_schema result."""
    extra = m["markdown_chars"] - m["results"][0]["chars"]
    return [p if k == 0 else p + extra for k, p in enumerate(m["prompts"])]


# ------------------------------------------------------------------------- printing
def fmt(v: int) -> str:
    return f"{v:,}"


def report(ms: list[dict[str, Any]]) -> str:
    sizes = [f"{m['n']:,} tables" for m in ms]
    out = []
    out.append("| what | " + " | ".join(f"{s}: chars / tokens" for s in sizes) + " |")
    out.append("|---|" + "---:|" * len(ms))

    def row(label: str, values: list[str]) -> None:
        out.append(f"| {label} | " + " | ".join(values) + " |")

    for key in ("tools", "system", "first message"):
        row(
            f"prefix: {key}",
            [f"{fmt(m['prefix'][key])} / {fmt(tokens(m['prefix'][key]))}" for m in ms],
        )
    row(
        "**prefix total**",
        [
            f"**{fmt(sum(m['prefix'].values()))} / {fmt(tokens(sum(m['prefix'].values())))}**"
            for m in ms
        ],
    )
    for i, r0 in enumerate(ms[0]["results"]):
        values = []
        for m in ms:
            r = m["results"][i]
            pct = 100 * r["chars"] / RESULT_BUDGET_CHARS
            values.append(f"{fmt(r['chars'])} / {fmt(tokens(r['chars']))} ({pct:.0f}%)")
        row(f"{r0['label']}{' [error result]' if r0['error'] else ''}", values)
    row(
        "budget per result",
        [f"{fmt(RESULT_BUDGET_CHARS)} / {fmt(tokens(RESULT_BUDGET_CHARS))}"] * len(ms),
    )
    out.append("")
    out.append(
        "| tables | largest prompt | prompt tokens sent (8 requests) | cache writes | "
        "cache reads | output | **budget_tokens()** | naive: largest prompt | "
        "naive: budget_tokens() | naive / budgeted | Markdown / first page |"
    )
    out.append("|---:|" + "---:|" * 10)
    for m in ms:
        a, b = cost(m["prompts"], m["assistant"]), cost(naive(m), m["assistant"])
        over = "" if b["largest"] <= CONTEXT_WINDOW else f" (over {CONTEXT_WINDOW // 1000}k)"
        first_page = m["results"][0]["chars"]
        out.append(
            f"| {m['n']:,} | {fmt(a['largest'])} | {fmt(a['resent'])} | {fmt(a['writes'])} | "
            f"{fmt(a['reads'])} | {fmt(a['output'])} | **{fmt(a['budget'])}** | "
            f"{fmt(b['largest'])}{over} | {fmt(b['budget'])} | {b['budget'] / a['budget']:.1f}x | "
            f"{fmt(m['markdown_chars'])} / {fmt(first_page)} chars = "
            f"{m['markdown_chars'] / first_page:.1f}x |"
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tables", default="100,1000,5000", help="comma-separated sizes")
    parser.add_argument("--sandbox-url", default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write the raw figures")
    args = parser.parse_args()
    sandbox = Sandbox.open(args.sandbox_url)
    ms = []
    for n in (int(s) for s in args.tables.split(",")):
        t0 = time.monotonic()
        ms.append(run_draft(sandbox, n))
        print(
            f"# {n:,} tables: loaded in {ms[-1]['load_s']:.1f} s, draft in "
            f"{time.monotonic() - t0 - ms[-1]['load_s']:.1f} s; run {ms[-1]['status']}",
            file=sys.stderr,
        )
        for err in ms[-1]["tool_errors"]:
            print(f"#   tool error: {err[:300]}", file=sys.stderr)
    print(f"measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; tokens = characters / 4\n")
    print(report(ms))
    if args.json:
        args.json.write_text(json.dumps(ms, indent=2))


if __name__ == "__main__":
    main()
