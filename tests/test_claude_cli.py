"""`migagent draft --backend claude` as a user runs it: a subprocess, the real SDK over
HTTP to the scripted fake Messages API, a real database, real verification."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from fake_anthropic import FakeAnthropic
from test_claude import GOOD, REQUEST, SCHEMA
from test_claude_pipeline import repair_script

# slow: about 12 s on 2 cores: CLI drafts against the fake Messages API
pytestmark = pytest.mark.slow


def _run(args, cwd, env_extra, sandbox):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env.update(env_extra)
    if not sandbox.embedded:
        env["MIGAGENT_SANDBOX_URL"] = sandbox.url
    return subprocess.run(
        [sys.executable, "-m", "migagent", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_writes_a_verified_draft_after_a_repair_turn(sandbox, make_db, tmp_path):
    target = make_db(SCHEMA)
    with FakeAnthropic(repair_script()) as fake:
        proc = _run(
            [
                "draft",
                REQUEST,
                "--backend",
                "claude",
                "--db",
                target.url,
                "--out",
                "versions",
                "--no-estimate",
            ],
            tmp_path,
            {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": fake.url},
            sandbox,
        )
    assert proc.returncode == 0, proc.stderr
    fake.assert_done()
    (revision,) = (tmp_path / "versions").glob("*.py")
    assert revision.read_text() == GOOD
    (spec,) = (tmp_path / "versions").rglob("*.md")
    assert spec.stem == revision.stem
    assert "VERIFICATION FAILED" not in spec.read_text()
    assert "token" in (proc.stdout + proc.stderr).lower()


def test_cli_claude_without_a_key_is_one_line_exit_2(sandbox, tmp_path):
    proc = _run(["draft", REQUEST, "--backend", "claude", "--demo"], tmp_path, {}, sandbox)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "ANTHROPIC_API_KEY" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not list(tmp_path.rglob("*.py"))
