"""The Claude backend through the draft pipeline and `migagent eval`, against the fake API.

The key and the fake's address reach the backend the way a user's would:
`ANTHROPIC_API_KEY` and `ANTHROPIC_BASE_URL` in the environment.
"""

from __future__ import annotations

import pytest
from fake_anthropic import FakeAnthropic, Request, reply, text, tool_use
from test_claude import BROKEN, GOOD, REQUEST, SCHEMA, SPEC

from migagent.agent.claude import ClaudeBackend, ClaudeDraftError
from migagent.agent.pipeline import DraftOptions, SchemaSource, draft, write_draft
from migagent.errors import UsageError

# slow: about 25 s on 2 cores: pipeline and eval drafts against the fake Messages API
pytestmark = pytest.mark.slow


@pytest.fixture
def target(make_db):
    return make_db(SCHEMA)


@pytest.fixture
def claude_env(monkeypatch):
    def point_at(fake: FakeAnthropic) -> None:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
        monkeypatch.setenv("MIGAGENT_MODEL", "claude-pipeline-test")

    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    return point_at


def _ok(req: Request) -> None:
    assert req.last_tool_json()["ok"] is True, req.last_tool_text()


def repair_script() -> list:
    def after_broken(req: Request) -> object:
        assert req.last_tool_json()["ok"] is False
        return reply(
            text("downgrade() must drop the column."), tool_use("verify_revision", {"source": GOOD})
        )

    def after_good(req: Request) -> object:
        _ok(req)
        return reply(tool_use("submit_draft", {"revision_source": GOOD, "spec": SPEC}))

    return [
        reply(tool_use("describe_table", {"table": "authors"})),
        reply(tool_use("verify_revision", {"source": BROKEN})),
        after_broken,
        after_good,
    ]


def test_draft_backend_claude_writes_a_verified_draft_after_a_repair(
    sandbox, target, claude_env, tmp_path
):
    with FakeAnthropic(repair_script()) as fake:
        claude_env(fake)
        result = draft(
            REQUEST,
            SchemaSource.url(target.url),
            options=DraftOptions(backend="claude"),
            sandbox=sandbox,
        )
        rev_path, spec_path = write_draft(result, tmp_path / "versions", tmp_path / "specs")
    fake.assert_done()

    assert result.backend == "claude"
    assert result.verified is True and result.ok
    assert result.revision_source == GOOD
    assert rev_path.read_text() == GOOD
    assert result.revision_id == "5e1f0c2a9b7d"
    # the project's file naming, never a path the model chose
    assert rev_path.name.endswith("_add_email_to_authors.py")
    assert result.spec.alembic.file_name == rev_path.name
    meta = result.spec.meta
    assert (meta.backend, meta.model, meta.turns, meta.verification) == (
        "claude",
        "claude-pipeline-test",
        4,
        "passed",
    )
    assert meta.usage.input_tokens == 400 and meta.usage.output_tokens == 200
    assert spec_path.read_text() == result.spec_markdown and result.spec_markdown
    assert any(
        n.startswith("Claude (claude-pipeline-test): 4 turns; tokens: 400 input")
        for n in result.notices
    )


def test_a_run_without_a_verified_draft_writes_nothing(sandbox, target, claude_env, tmp_path):
    script = [
        reply(tool_use("verify_revision", {"source": BROKEN})),
        reply(text("I could not make it pass.")),
    ]
    with FakeAnthropic(script) as fake:
        claude_env(fake)
        with pytest.raises(ClaudeDraftError, match="stopped without submitting") as caught:
            draft(
                REQUEST,
                SchemaSource.url(target.url),
                options=DraftOptions(backend="claude"),
                sandbox=sandbox,
            )
    fake.assert_done()
    assert caught.value.exit_code == 1
    assert not list(tmp_path.iterdir())


def test_backend_claude_without_a_key_is_a_usage_error(sandbox, target, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(UsageError, match="ANTHROPIC_API_KEY is not set"):
        draft(
            REQUEST,
            SchemaSource.url(target.url),
            options=DraftOptions(backend="claude"),
            sandbox=sandbox,
        )
    with pytest.raises(UsageError, match="ANTHROPIC_API_KEY is not set"):
        ClaudeBackend()


def test_eval_backend_claude_runs_a_case(sandbox, claude_env, capsys):
    from migagent.cli import main
    from migagent.evals.runner import load_cases

    (case,) = load_cases(only=["accounts_add_is_verified"])
    golden = case.golden_path.read_text()
    spec = {**SPEC, "purpose": {"summary": "Add is_verified to accounts"}}
    script = [
        reply(tool_use("verify_revision", {"source": golden})),
        lambda req: (
            _ok(req),
            reply(tool_use("submit_draft", {"revision_source": golden, "spec": spec})),
        )[1],
    ]
    with FakeAnthropic(script) as fake:
        claude_env(fake)
        with pytest.raises(SystemExit) as done:
            main(["eval", "--backend", "claude", "--case", case.id, "--workers", "1"])
    fake.assert_done()
    out = capsys.readouterr().out
    assert done.value.code in (0, None)
    assert "1 cases in" in out and "on backend claude" in out
