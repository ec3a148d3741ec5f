"""Prompt assets: shipped as files, loaded by name, and saying what the agent must do."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import jinja2
import pytest

from migagent.errors import UsageError
from migagent.files import write_atomic
from migagent.prompts import TOOL_NAMES, fence, load_prompt, template, tool_description

ROOT = Path(__file__).resolve().parent.parent


def test_system_prompt_covers_role_process_rules_and_conventions() -> None:
    text = load_prompt("system.md")
    headings = [line for line in text.splitlines() if line.startswith("# ")]
    assert headings == [
        "# Role",
        "# Process",
        "# Provenance in the spec",
        "# Safety rules (the linter enforces these)",
        "# Conventions",
        "# Output",
    ]
    process = text[text.index("# Process") : text.index("# Provenance")]
    steps = [
        "Introspect",
        "Plan",
        "Write the revision",
        "Verify",
        "Lint",
        "Estimate",
        "Repair",
        "Submit",
    ]
    positions = [process.index(f"**{step}") for step in steps]
    assert positions == sorted(positions)
    for rule in (
        "lock_timeout",
        "postgresql_concurrently=True",
        "NOT VALID",
        "VALIDATE CONSTRAINT",
        "batches",
    ):
        assert rule in text
    assert ".claude/conventions.md" in text


@pytest.mark.parametrize("tool", TOOL_NAMES)
def test_every_tool_has_a_short_description(tool: str) -> None:
    text = tool_description(tool)
    assert 40 < len(text) < 600
    assert f"`{tool}`" in load_prompt("system.md")  # the process names every tool


def test_tool_files_are_exactly_the_known_tools() -> None:
    files = {p.stem for p in (ROOT / "prompts" / "tools").glob("*.md")}
    assert files == set(TOOL_NAMES)


def test_unknown_prompt_is_an_error() -> None:
    with pytest.raises(FileNotFoundError, match="no prompt named"):
        load_prompt("nope.md")


def test_templates_are_strict_about_missing_variables() -> None:
    with pytest.raises(jinja2.UndefinedError):
        template("revision.py.j2").render(message="x")


def test_fence_outgrows_backticks_in_the_body() -> None:
    assert fence("SELECT 1;\n", "sql") == "```sql\nSELECT 1;\n```"
    assert fence("a ```` b", "md") == "`````md\na ```` b\n`````"


def test_conventions_file_names_the_lock_safety_patterns() -> None:
    text = (ROOT / ".claude" / "conventions.md").read_text()
    for heading in ("## Naming", "## Lock safety", "## Data migrations", "## Downgrades"):
        assert heading in text
    assert "YYYY_MM_DD_HHMM_<slug>.py" in text


# --- write_atomic --------------------------------------------------------------------------


def test_write_atomic_replaces_and_keeps_mode(tmp_path: Path) -> None:
    target = tmp_path / "versions" / "rev.py"
    write_atomic(target, "one\n")
    assert target.read_text() == "one\n"
    os.chmod(target, 0o640)
    write_atomic(target, "two\n")
    assert target.read_text() == "two\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == ["rev.py"]


def test_write_atomic_failure_is_a_usage_error_and_leaves_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UsageError, match="cannot write"):
        write_atomic(blocker / "rev.py", "text")
    target = tmp_path / "dir_as_target"
    target.mkdir()
    with pytest.raises(UsageError):
        write_atomic(target, "text")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir_as_target", "file"]
