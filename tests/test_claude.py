"""The Claude backend over real HTTP against a scripted fake Messages API.

The fake (`tests/fake_anthropic.py`) only plays the model. The SDK's tool
runner, migagent's tools, the databases and verification are all real.
"""

from __future__ import annotations

import json

import pytest
from fake_anthropic import FakeAnthropic, Request, error, reply, text, tool_use

from migagent.agent.backends import FALLBACK_NOTICE, select_backend
from migagent.agent.claude import (
    DEFAULT_MODEL,
    ClaudeAPIError,
    ClaudeDraftError,
    ClaudeSettings,
    draft_with_claude,
)
from migagent.agent.claude_tools import submit_input_schema, tool_definitions
from migagent.agent.toolbox import Toolbox
from migagent.errors import UsageError
from migagent.prompts import TOOL_NAMES, tool_description

# slow: about 60 s on 2 cores: whole drafts against the scripted fake Messages API
pytestmark = pytest.mark.slow

SCHEMA = """
CREATE TABLE authors (id bigserial PRIMARY KEY, name text NOT NULL);
INSERT INTO authors (name) VALUES ('ada'), ('brian');
"""

REQUEST = "add a nullable email column to authors"

GOOD = '''"""add email to authors

Revision ID: 5e1f0c2a9b7d
Revises:
Create Date: 2026-11-24 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5e1f0c2a9b7d"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SET lock_timeout = '5s'")
    op.add_column("authors", sa.Column("email", sa.Text(), nullable=True))


def downgrade() -> None:
    op.execute("SET lock_timeout = '5s'")
    op.drop_column("authors", "email")
'''

# the first attempt forgets to undo the column in downgrade(): verification fails
BROKEN = GOOD.replace('    op.drop_column("authors", "email")\n', "    pass\n")

SPEC = {
    "purpose": {"summary": "Add email to authors", "migration_type": "Schema change"},
    "schema_changes": {
        "modify_table": {"value": True},
        "details": ["add column authors.email text (nullable)"],
    },
    "current_schema": {
        "value": "CREATE TABLE authors (id bigserial PRIMARY KEY, name text NOT NULL);"
    },
    "desired_schema": {
        "value": "CREATE TABLE authors (id bigserial PRIMARY KEY, name text NOT NULL, email text);"
    },
    "rollback": {
        "procedure": "alembic downgrade -1 drops the column.",
        "rollback_sql": {"value": "ALTER TABLE authors DROP COLUMN email;"},
    },
    "alembic": {
        "file_name": "2026_11_24_1000_add_email_to_authors.py",
        "revision": "5e1f0c2a9b7d",
        "commands": "alembic upgrade head",
    },
}


@pytest.fixture
def target(make_db):
    return make_db(SCHEMA)


@pytest.fixture
def toolbox(sandbox, target):
    return Toolbox.for_target(target.url, sandbox=sandbox)


def settings_for(fake: FakeAnthropic, **overrides) -> ClaudeSettings:
    values = {"api_key": "test-key", "base_url": fake.url, "max_retries": 2, "max_turns": 20}
    return ClaudeSettings(**{**values, **overrides})


def fails_with(exc_type, match, toolbox, script, tmp_path, **overrides):
    """Run `script` and expect `exc_type`; the script must be used up."""
    with FakeAnthropic(script) as fake, pytest.raises(exc_type, match=match) as caught:
        draft_with_claude(
            REQUEST, toolbox, settings=settings_for(fake, **overrides), project_dir=tmp_path
        )
    fake.assert_done()
    return caught.value


def finish(source: str = GOOD) -> list:
    """Verify `source`, then submit it: the last two turns of a good run."""
    return [
        reply(tool_use("verify_revision", {"source": source})),
        lambda req: (
            _expect(req.last_tool_json()["ok"], "verification should pass"),
            reply(
                text("Verified."),
                tool_use("submit_draft", {"revision_source": source, "spec": SPEC}),
            ),
        )[1],
    ]


def _expect(condition: object, message: str) -> None:
    assert condition, message


# --------------------------------------------------------------- the repair conversation
def test_inspects_fails_verification_repairs_and_submits(toolbox, tmp_path):
    # the first turn writes the prompt cache, the second reads it
    first_usage = {"input_tokens": 3000, "output_tokens": 100, "cache_creation_input_tokens": 5000}
    second_usage = {"input_tokens": 200, "output_tokens": 80, "cache_read_input_tokens": 5000}

    def after_introspect(req: Request) -> object:
        summary = req.last_tool_json()
        _expect([t["name"] for t in summary["tables"]] == ["public.authors"], summary)
        return reply(tool_use("describe_table", {"table": "authors"}), usage=second_usage)

    def after_describe(req: Request) -> object:
        table = req.last_tool_json()["table"]
        _expect([c["name"] for c in table["columns"]] == ["id", "name"], table)
        return reply(
            text("Trying a first version."), tool_use("verify_revision", {"source": BROKEN})
        )

    def after_failed_verify(req: Request) -> object:
        result = req.last_tool_json()
        _expect(result["ok"] is False, result)
        _expect(result["details"]["steps"]["downgrade"] == "failed", result)
        _expect(result["details"]["downgrade_residue"], result)
        # a model that submits anyway is sent back
        return reply(tool_use("submit_draft", {"revision_source": BROKEN, "spec": SPEC}))

    def after_refused_submit(req: Request) -> object:
        block = req.last_tool_result()
        _expect(block.get("is_error") is True, block)
        _expect("last verification of this source failed" in req.last_tool_text(), block)
        return reply(text("Fixing downgrade()."), tool_use("verify_revision", {"source": GOOD}))

    def after_good_verify(req: Request) -> object:
        _expect(req.last_tool_json()["ok"] is True, req.last_tool_json())
        return reply(tool_use("lint_revision", {"source": GOOD}))

    def after_lint(req: Request) -> object:
        _expect(req.last_tool_json()["ok"] is True, req.last_tool_json())
        return reply(tool_use("submit_draft", {"revision_source": GOOD, "spec": SPEC}))

    script = [
        reply(tool_use("introspect_schema", {}), usage=first_usage),
        after_introspect,
        after_describe,
        after_failed_verify,
        after_refused_submit,
        after_good_verify,
        after_lint,
    ]
    with FakeAnthropic(script) as fake:
        draft = draft_with_claude(
            REQUEST, toolbox, settings=settings_for(fake, model="claude-test"), project_dir=tmp_path
        )
    fake.assert_done()

    assert draft.verified is True
    assert draft.revision_source == GOOD
    assert draft.verification.passed
    assert draft.spec.revision_source == GOOD
    assert draft.spec.purpose.summary == "Add email to authors"
    meta = draft.spec.meta
    assert (meta.backend, meta.model, meta.turns) == ("claude", "claude-test", 7)
    assert meta.verification == "passed"
    assert meta.lint == "clean"
    # token usage summed over every response the fake sent
    assert meta.usage.input_tokens == 3000 + 200 + 5 * 100
    assert meta.usage.output_tokens == 100 + 80 + 5 * 50
    assert meta.usage.cache_creation_input_tokens == 5000
    assert meta.usage.cache_read_input_tokens == 5000
    assert draft.run.tool_calls == [
        "introspect_schema",
        "describe_table",
        "verify_revision",
        "submit_draft",
        "verify_revision",
        "lint_revision",
        "submit_draft",
    ]
    assert len(draft.run.tool_errors) == 1 and draft.run.tool_errors[0].startswith("submit_draft:")

    # what went over the wire
    first, last = fake.requests[0], fake.requests[-1]
    assert first.path.startswith("/v1/messages")
    assert "test-key" in (
        first.headers.get("x-api-key"),
        first.headers.get("authorization", "")[7:],
    )
    assert first.body["model"] == "claude-test"
    assert "thread" not in first.body
    assert first.body["cache_control"] == {"type": "ephemeral"}
    system = first.body["system"]
    assert system[0]["text"].startswith("# Role")
    assert system[-1]["cache_control"] == {"type": "ephemeral"}
    assert [t["name"] for t in first.body["tools"]] == list(TOOL_NAMES)
    assert first.body["tools"][0]["description"] == tool_description(TOOL_NAMES[0])
    assert REQUEST in first.messages[0]["content"]
    # thread=False: every request carries the whole conversation
    assert [len(r.messages) for r in fake.requests] == [1, 3, 5, 7, 9, 11, 13]
    assert last.messages[:3] == fake.requests[1].messages


def test_rate_limit_is_retried_by_the_sdk(toolbox, tmp_path):
    script = [error(429, "rate_limit_error", "slow down"), *finish()]
    with FakeAnthropic(script) as fake:
        draft = draft_with_claude(
            REQUEST, toolbox, settings=settings_for(fake), project_dir=tmp_path
        )
    fake.assert_done()
    assert draft.verified
    assert len(fake.requests) == 3  # the 429, its retry, the submit turn
    assert fake.requests[0].body == fake.requests[1].body
    assert fake.requests[1].headers["x-stainless-retry-count"] == "1"  # the SDK's own retry
    assert draft.spec.meta.turns == 2


@pytest.mark.parametrize(
    ("status", "kind", "expected"),
    [
        (429, "rate_limit_error", "rate limiting this key after 1 retries"),
        (529, "overloaded_error", r"unavailable \(529, busy\) after 1 retries"),
        (500, "api_error", r"unavailable \(500, busy\)"),
    ],
)
def test_api_errors_after_retries_are_one_line(toolbox, tmp_path, status, kind, expected):
    script = [error(status, kind, "busy"), error(status, kind, "busy")]
    with FakeAnthropic(script) as fake, pytest.raises(ClaudeAPIError, match=expected) as caught:
        draft_with_claude(
            REQUEST, toolbox, settings=settings_for(fake, max_retries=1), project_dir=tmp_path
        )
    fake.assert_done()
    assert caught.value.exit_code == 2
    assert "\n" not in str(caught.value)


def test_bad_key_is_a_clear_error(toolbox, tmp_path):
    script = [error(401, "authentication_error", "invalid x-api-key")]
    fails_with(ClaudeAPIError, "rejected the key: invalid x-api-key", toolbox, script, tmp_path)


# --------------------------------------------------------------------------- outcomes
def test_turn_limit(toolbox, tmp_path):
    script = [
        reply(tool_use("introspect_schema", {})),
        reply(tool_use("describe_table", {"table": "authors"})),
        reply(tool_use("verify_revision", {"source": GOOD})),
    ]
    caught = fails_with(ClaudeDraftError, "within 3 turns", toolbox, script, tmp_path, max_turns=3)
    run = caught.run
    assert (run.status, run.turns, caught.exit_code) == ("turn_limit", 3, 1)
    assert "nothing was written" in str(caught)
    assert toolbox.submission is None


def test_refusal(toolbox, tmp_path):
    script = [reply(text("I can't help with that."), stop_reason="refusal")]
    caught = fails_with(ClaudeDraftError, "declined", toolbox, script, tmp_path)
    assert caught.run.status == "refused"
    assert toolbox.calls == []


def test_max_tokens_stops_without_running_the_cut_off_call(toolbox, tmp_path):
    script = [reply(tool_use("verify_revision", {"source": GOOD[:40]}), stop_reason="max_tokens")]
    caught = fails_with(ClaudeDraftError, "max_tokens", toolbox, script, tmp_path)
    assert caught.run.status == "max_tokens"
    assert "MIGAGENT_MAX_TOKENS" in str(caught)
    assert toolbox.calls == []  # a call cut off mid-input never runs


def test_token_budget(toolbox, tmp_path):
    script = [reply(tool_use("introspect_schema", {}), usage={"input_tokens": 900})]
    caught = fails_with(
        ClaudeDraftError,
        "over the --token-budget of 500",
        toolbox,
        script,
        tmp_path,
        token_budget=500,
    )
    assert caught.run.status == "token_budget"
    assert caught.run.usage.total == 950


def test_malformed_tool_input_goes_back_to_the_model(toolbox, tmp_path):
    bad_spec = {**SPEC, "purpose": {"summary": "x", "migration_type": "Sideways"}}

    def after_bad_describe(req: Request) -> object:
        block = req.last_tool_result()
        _expect(block.get("is_error") is True, block)
        _expect("invalid input for describe_table" in req.last_tool_text(), block)
        _expect("table: Field required" in req.last_tool_text(), block)
        _expect("tbl: Extra inputs are not permitted" in req.last_tool_text(), block)
        return reply(tool_use("verify_revision", {"source": GOOD}))

    def after_verify(req: Request) -> object:
        return reply(tool_use("submit_draft", {"revision_source": GOOD, "spec": bad_spec}))

    def after_bad_submit(req: Request) -> object:
        _expect(req.last_tool_result().get("is_error") is True, req.last_tool_result())
        _expect("spec.purpose.migration_type" in req.last_tool_text(), req.last_tool_text())
        return reply(tool_use("submit_draft", {"revision_source": GOOD, "spec": SPEC}))

    script = [
        reply(tool_use("describe_table", {"tbl": "authors"})),
        after_bad_describe,
        after_verify,
        after_bad_submit,
    ]
    with FakeAnthropic(script) as fake:
        draft = draft_with_claude(
            REQUEST, toolbox, settings=settings_for(fake), project_dir=tmp_path
        )
    fake.assert_done()
    assert draft.verified
    assert [e.split(":")[0] for e in draft.run.tool_errors] == ["describe_table", "submit_draft"]


def test_unknown_tool_is_an_error_result_and_no_submission_ends_the_run(toolbox, tmp_path):
    def after_unknown(req: Request) -> object:
        block = req.last_tool_result()
        _expect(block.get("is_error") is True, block)
        _expect("no tool named 'drop_database'" in req.last_tool_text(), block)
        _expect("verify_revision" in req.last_tool_text(), block)
        return reply(text("I cannot do this without that tool."))

    script = [reply(tool_use("drop_database", {"name": "prod"})), after_unknown]
    caught = fails_with(ClaudeDraftError, "stopped without submitting", toolbox, script, tmp_path)
    assert caught.run.status == "no_submission"
    assert "cannot do this without that tool" in str(caught)
    assert toolbox.submission is None


# ----------------------------------------------------------------------- configuration
def test_missing_key_with_backend_claude_is_a_usage_error():
    with pytest.raises(UsageError, match="ANTHROPIC_API_KEY is not set") as caught:
        select_backend("claude", env={})
    assert caught.value.exit_code == 2
    assert "--backend offline" in str(caught.value)


def test_auto_falls_back_to_offline_with_a_notice():
    choice = select_backend("auto", env={})
    assert (choice.name, choice.notice) == ("offline", FALLBACK_NOTICE)
    assert select_backend("offline", env={"ANTHROPIC_API_KEY": "k"}).name == "offline"


def test_auto_with_a_key_picks_claude_and_reads_model_options():
    choice = select_backend("auto", env={"ANTHROPIC_API_KEY": "k", "MIGAGENT_MODEL": "claude-x"})
    assert choice.name == "claude" and choice.notice is None
    assert choice.claude.model == "claude-x"
    flagged = select_backend(
        "claude",
        env={"ANTHROPIC_API_KEY": "k", "MIGAGENT_MODEL": "claude-x"},
        model="claude-y",
        max_turns=5,
        token_budget=1000,
    )
    assert (flagged.claude.model, flagged.claude.max_turns, flagged.claude.token_budget) == (
        "claude-y",
        5,
        1000,
    )
    assert select_backend("claude", env={"ANTHROPIC_API_KEY": "k"}).claude.model == DEFAULT_MODEL
    with pytest.raises(UsageError, match="unknown backend 'gpt'"):
        select_backend("gpt", env={})


def test_tool_definitions_come_from_prompts_and_submit_carries_the_spec_schema(toolbox):
    defs = {d["name"]: d for d in tool_definitions(toolbox)}
    assert list(defs) == list(TOOL_NAMES)
    for name, d in defs.items():
        assert d["description"] == tool_description(name)
    assert defs["describe_table"]["input_schema"]["required"] == ["table"]
    submit = submit_input_schema()
    assert submit["required"] == ["revision_source", "spec"]
    spec = submit["properties"]["spec"]
    assert "revision_source" not in spec["properties"]
    assert "purpose" in spec["required"]
    assert "$defs" not in spec and "Purpose" in submit["$defs"]  # refs resolve from the root
    assert json.dumps(submit).count('"$ref": "#/$defs/') > 5
