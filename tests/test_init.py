"""`migagent init`: installs the Claude Code integration without overwriting anything."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from migagent.cli import main
from migagent.errors import UsageError
from migagent.tools.scaffold import FILE_TEMPLATE, asset, init_project, set_file_template

ROOT = Path(__file__).resolve().parent.parent


def _alembic(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project as `alembic init` leaves it."""
    _alembic(tmp_path, "init", "alembic")
    return tmp_path


def _frontmatter(text: str) -> tuple[dict, str]:
    """Flat `key: value` YAML frontmatter (all a slash command uses) and the body."""
    m = re.match(r"---\n(.*?)\n---\n(.*)", text, re.S)
    assert m, "a slash command starts with YAML frontmatter between --- lines"
    meta = {}
    for line in m.group(1).splitlines():
        key, sep, value = line.partition(":")
        assert sep and re.fullmatch(r"[a-z-]+", key), f"not a flat YAML mapping line: {line!r}"
        value = value.strip()
        assert not value.startswith(("'", '"', "[", "{", "|", ">")), "keep values plain scalars"
        meta[key] = value
    return meta, m.group(2)


def test_init_installs_everything_into_a_fresh_alembic_project(project: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["init", str(project)])
    assert exc.value.code in (None, 0)
    printed = capsys.readouterr().out
    assert "created .claude/commands/migration.md" in printed
    assert "updated alembic.ini" in printed

    command = project / ".claude/commands/migration.md"
    assert command.read_text() == (ROOT / ".claude/commands/migration.md").read_text()
    assert (project / ".claude/conventions.md").read_text() == asset("conventions.md")
    config = json.loads((project / ".mcp.json").read_text())
    assert config["mcpServers"]["migagent"]["command"] == "migagent"
    assert config["mcpServers"]["migagent"]["args"] == ["mcp"]

    # Alembic now names new revisions YYYY_MM_DD_HHMM_<slug>.py.
    _alembic(project, "revision", "-m", "add file_size to documents")
    (made,) = (project / "alembic/versions").glob("*.py")
    assert re.fullmatch(r"\d{4}_\d{2}_\d{2}_\d{4}_add_file_size_to_documents\.py", made.name)


def test_init_never_overwrites_and_merges_mcp_servers(project: Path) -> None:
    (project / ".claude/commands").mkdir(parents=True)
    (project / ".claude/commands/migration.md").write_text("my own command\n")
    (project / ".mcp.json").write_text(
        json.dumps({"mcpServers": {"github": {"command": "gh-mcp", "args": []}}, "x": 1})
    )
    ini = project / "alembic.ini"
    ini.write_text(ini.read_text().replace("[alembic]\n", "[alembic]\nfile_template = %%(rev)s\n"))
    before_ini = ini.read_text()

    report = init_project(project)
    by_path = {a.path: a for a in report.actions}
    assert by_path[".claude/commands/migration.md"].action == "skipped"
    assert by_path[".claude/conventions.md"].action == "created"
    assert by_path[".mcp.json"].action == "updated"
    assert by_path["alembic.ini"].action == "skipped"

    assert (project / ".claude/commands/migration.md").read_text() == "my own command\n"
    assert ini.read_text() == before_ini
    config = json.loads((project / ".mcp.json").read_text())
    assert config["x"] == 1
    assert config["mcpServers"]["github"] == {"command": "gh-mcp", "args": []}
    assert config["mcpServers"]["migagent"]["args"] == ["mcp"]

    # A second run changes nothing, and says so.
    again = init_project(project)
    assert not again.changed
    mine = dict(config["mcpServers"]["migagent"], command="/opt/bin/migagent")
    config["mcpServers"]["migagent"] = mine
    (project / ".mcp.json").write_text(json.dumps(config))
    init_project(project)
    assert json.loads((project / ".mcp.json").read_text())["mcpServers"]["migagent"] == mine


def test_init_refuses_a_broken_mcp_json_before_writing_anything(tmp_path: Path) -> None:
    (tmp_path / ".mcp.json").write_text("{not json")
    with pytest.raises(UsageError, match=r"\.mcp\.json is not valid JSON"):
        init_project(tmp_path)
    assert not (tmp_path / ".claude").exists()
    assert (tmp_path / ".mcp.json").read_text() == "{not json"


def test_init_without_alembic_ini_and_dry_run(tmp_path: Path) -> None:
    report = init_project(tmp_path, dry_run=True)
    assert [a.action for a in report.actions] == ["created", "created", "created", "skipped"]
    assert "no alembic.ini" in report.actions[-1].detail
    assert list(tmp_path.iterdir()) == []


def test_set_file_template_places_the_line_in_the_alembic_section() -> None:
    text = "[loggers]\nkeys = root\n\n[alembic]\nscript_location = m\n\n[post_write_hooks]\n"
    new = set_file_template(text)
    assert new == text.replace(
        "script_location = m\n", f"script_location = m\nfile_template = {FILE_TEMPLATE}\n"
    )
    assert set_file_template(new) is None
    assert set_file_template("[other]\nx = 1\n") is False


def test_slash_command_follows_the_claude_code_format() -> None:
    text = (ROOT / ".claude/commands/migration.md").read_text()
    meta, body = _frontmatter(text)
    assert set(meta) >= {"description", "argument-hint", "allowed-tools"}
    assert isinstance(meta["description"], str) and meta["description"]
    tools = [t.strip() for t in meta["allowed-tools"].split(",")]
    assert "mcp__migagent__*" in tools
    assert "Bash(migagent:*)" in tools
    assert "$ARGUMENTS" in body
    assert ".claude/conventions.md" in body
    for tool in ("verify_revision", "lint_revision", "describe_table", "table_stats"):
        assert tool in body
    # It ends by presenting the spec for review, before anything is applied.
    last = body.strip().split("\n## ")[-1]
    assert "review" in last and "alembic upgrade" in last
    # The packaged copies that `migagent init` installs are the same files.
    assert asset("commands/migration.md") == text
    assert asset("conventions.md") == (ROOT / ".claude/conventions.md").read_text()


def test_repository_mcp_json_registers_the_server() -> None:
    config = json.loads((ROOT / ".mcp.json").read_text())
    entry = config["mcpServers"]["migagent"]
    assert entry["command"] == "migagent" and entry["args"] == ["mcp"]
    assert all(isinstance(v, str) for v in entry.get("env", {}).values())
    assert config == json.loads(asset("mcp.json"))
