"""What a user sees of the command line: help, flags, metavars, start-up, piped output.

Help and parsing run the real app through typer's CliRunner; start-up and piped
output run `migagent` as a subprocess (a real pipe, no terminal).
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from migagent.cli import main
from migagent.cli.app import app
from migagent.cli.commands import COMMANDS
from migagent.tools.lint import LintContext, lint_files

WIDE = {"COLUMNS": "200", "TERMINAL_WIDTH": "200"}
# how typer shows a Python type: <bool>, <str>, <list[str]>, <int range>, <Path>
PYTHON_TYPE = re.compile(r"<(bool|str|int|float|Path|UUID|datetime|list\[[^>]*\]|\w+ range)>")


def help_of(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    return "\n".join(line.rstrip() for line in result.output.splitlines())


def squash(text: str) -> str:
    return " ".join(text.split())


def every_command() -> list[list[str]]:
    return [[name] for name in COMMANDS] + [["sandbox", "status"], ["sandbox", "stop"]]


@pytest.mark.parametrize("args", [[], *every_command()], ids=lambda a: " ".join(a) or "migagent")
def test_help_shows_no_python_types(args: list[str]) -> None:
    text = help_of(*args)
    assert not PYTHON_TYPE.search(text), PYTHON_TYPE.findall(text)


def option_row(text: str, option: str) -> str:
    """The help row of `option`, box and padding removed."""
    for line in text.splitlines():
        cells = line.strip("│ ").split()
        if cells and cells[0] == option:
            return " ".join(cells)
    raise AssertionError(f"{option} not in help:\n{text}")


@pytest.mark.parametrize(
    ("command", "option", "shown"),
    [
        ("lint", "--db", "--db URL"),
        ("lint", "--rows", "--rows TABLE=N"),
        ("lint", "--large-rows", "--large-rows N [x>=1]"),
        ("draft", "--out", "--out DIR"),
        ("draft", "--schema-file", "--schema-file FILE"),
        ("draft", "--models", "--models MODULE:ATTR"),
        ("estimate", "--rows", "--rows TABLE=N"),
        ("verify", "--checks-file", "--checks-file FILE"),
        ("mcp", "--project", "--project DIR"),
        ("introspect", "--table", "--table -t TABLE"),
    ],
)
def test_options_show_a_readable_metavar(command: str, option: str, shown: str) -> None:
    assert option_row(help_of(command), option).startswith(shown)


@pytest.mark.parametrize(
    ("command", "flag", "help_start"),
    [
        ("lint", "--json", "Print"),
        ("lint", "--sarif", "Print"),
        ("draft", "--dry-run", "Print"),
        ("check", "--no-roundtrip", "Skip"),
        ("mcp", "--verbose", "Log"),
        ("lint", "--help", "Show"),
    ],
)
def test_flags_show_no_value(command: str, flag: str, help_start: str) -> None:
    row = option_row(help_of(command), flag)
    assert row.split()[1] == help_start, row  # the help text follows the flag at once


def test_root_options_are_flags() -> None:
    text = help_of()
    for flag, word in (("--debug", "Show"), ("--version", "Print"), ("--help", "Show")):
        assert option_row(text, flag).split()[1] == word


def test_usage_lines_name_their_arguments() -> None:
    assert "Usage: migagent lint [OPTIONS] FILE..." in help_of("lint")
    assert "Usage: migagent verify [OPTIONS] FILE" in help_of("verify")
    assert "Usage: migagent check [OPTIONS] [DIR]" in help_of("check")
    assert "Usage: migagent draft [OPTIONS] REQUEST" in help_of("draft")


def test_a_flag_takes_no_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mig = tmp_path / "m.sql"
    mig.write_text("SET lock_timeout = '1s';\nCREATE INDEX CONCURRENTLY ix ON orders (a);\n")
    with pytest.raises(SystemExit) as exit_:
        main(["lint", str(mig), "--json"])
    assert exit_.value.code == 0
    assert json.loads(capsys.readouterr().out) == []
    # `--json true`: the flag is on and `true` is a second file, which does not exist
    with pytest.raises(SystemExit) as exit_:
        main(["lint", str(mig), "--json", "true"])
    assert exit_.value.code == 2
    assert "true: no such file" in capsys.readouterr().err


def test_root_help_lists_every_command_with_its_summary() -> None:
    text = squash(help_of())
    for name, entry in COMMANDS.items():
        assert f"{name} {entry.summary}" in text, name


@pytest.mark.parametrize("name", [n for n in COMMANDS if n != "eval"])
def test_each_command_help_opens_with_its_summary(name: str) -> None:
    """The listed summary and the command's own first paragraph say the same
    (`eval` is migagent/cli/evaluate.py, kept by another owner)."""
    body = help_of(name).split("\n\n")
    paragraphs = [squash(p.replace("│", "")) for p in body if p.strip()]
    assert paragraphs[1] == COMMANDS[name].summary, paragraphs[:3]


def test_every_command_has_a_description() -> None:
    for args in every_command():
        paragraphs = [p for p in help_of(*args).split("\n\n") if p.strip()]
        assert not paragraphs[1].lstrip().startswith("╭"), args  # a description, then panels


def test_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "migagent", "--version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"migagent {version('migagent')}"


def test_an_unknown_command_suggests_the_near_one() -> None:
    result = CliRunner().invoke(app, ["lnt"])
    assert result.exit_code == 2
    assert "Did you mean 'lint'" in result.output


HEAVY = ("sqlalchemy", "psycopg", "anthropic", "mcp", "migagent.agent", "migagent.tools.verify")


def modules_after(*argv: str) -> set[str]:
    """The modules a fresh `migagent ARGV` process has imported when it exits."""
    code = (
        "import sys\n"
        "from migagent.cli import main\n"
        "try:\n"
        f"    main({list(argv)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return set(proc.stderr.split())


def test_start_up_imports_only_the_command_it_runs() -> None:
    loaded = modules_after("lint", "--help")
    assert "migagent.cli.lint" in loaded
    others = {entry.module for name, entry in COMMANDS.items() if name != "lint"}
    assert not loaded & others
    assert not {m for m in loaded if m.split(".")[0] in HEAVY or m.startswith(HEAVY)}


def test_root_help_imports_no_command() -> None:
    loaded = modules_after("--help")
    assert not loaded & {entry.module for entry in COMMANDS.values()}


def test_a_command_still_finds_its_dependencies() -> None:
    loaded = modules_after("mcp", "--help")
    assert "migagent.cli.mcp" in loaded and "migagent.cli.draft" not in loaded


# ------------------------------------------------------------------ lint output
REVISION = '''\
"""add an index"""
from alembic import op

revision = "a1"
down_revision = None


def upgrade():
    op.create_index(
        "ix_addresses_customer_id_created_at_and_region", "addresses",
        ["customer_id", "created_at", "region"],
    )


def downgrade():
    op.drop_index("ix_addresses_customer_id_created_at_and_region", table_name="addresses")
'''


@pytest.fixture
def revision(tmp_path: Path) -> Path:
    path = tmp_path / "rev.py"
    path.write_text(REVISION)
    return path


def lint_cli(*args: str, columns: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns)}
    env.pop("FORCE_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "migagent", "lint", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_piped_narrow_lint_prints_every_line_of_the_safe_alternative(revision: Path) -> None:
    findings = json.loads(
        lint_cli(str(revision), "--rows", "addresses=50M", "--json", columns=60).stdout
    )
    fixes = [f["fix"] for f in findings if f["fix"]]
    assert any(len(line) > 60 for fix in fixes for line in fix.splitlines())  # wider than the pipe
    piped = lint_cli(str(revision), "--rows", "addresses=50M", columns=60)
    assert piped.returncode == 1, piped.stderr
    lines = [line.strip() for line in piped.stdout.splitlines()]
    for fix in fixes:
        for line in fix.splitlines():
            assert line.strip() in lines, (line, piped.stdout)
    statement = next(f["statement"] for f in findings)
    assert statement in piped.stdout


def test_narrow_terminal_wraps_the_safe_alternative_in_its_box(revision: Path) -> None:
    report = lint_files([revision], LintContext(rows={"addresses": 50_000_000}))
    buffer = io.StringIO()
    console = Console(file=buffer, width=40, force_terminal=True, color_system=None)
    report.render(console)
    text = buffer.getvalue()
    assert max(len(line) for line in text.splitlines() if "│" in line) <= 40
    boxed = "".join(re.sub(r"[│╭╮╰╯─\s]", "", line) for line in text.splitlines() if "│" in line)
    for f in report.findings:
        if f.fix:
            assert "".join(f.fix.split()) in boxed
