"""`migagent init`: install migagent's Claude Code integration into a project.

What it installs (from package data under `migagent.prompts/init/`):

- `.claude/commands/migration.md`: the `/migration <request>` slash command;
- `.claude/conventions.md`: the migration conventions, for the project to edit;
- `.mcp.json`: the `migagent` MCP server, merged into an existing file beside
  the servers already registered there;
- `file_template` in `alembic.ini`, so revision files are named
  `YYYY_MM_DD_HHMM_<slug>.py`, when the project has an alembic.ini that sets
  none.

Nothing that exists is overwritten: an existing file, MCP entry or
`file_template` is reported as skipped. Every problem is found before anything
is written, and every write is atomic.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from migagent.errors import UsageError
from migagent.files import write_atomic

#: Alembic's `file_template` for `YYYY_MM_DD_HHMM_<slug>.py` (`%%` because alembic.ini
#: is read with interpolation).
FILE_TEMPLATE = "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d_%%(slug)s"
SERVER_NAME = "migagent"

Action = Literal["created", "updated", "skipped"]


class InitAction(BaseModel):
    path: str  # relative to the project directory
    action: Action
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.action} {self.path}" + (f" ({self.detail})" if self.detail else "")


class InitReport(BaseModel):
    directory: str
    actions: list[InitAction] = Field(default_factory=list)

    @property
    def changed(self) -> list[InitAction]:
        return [a for a in self.actions if a.action != "skipped"]


def asset(name: str) -> str:
    """Text of an `init/` asset shipped in `migagent.prompts`."""
    node = resources.files("migagent.prompts").joinpath("init")
    for part in name.split("/"):
        node = node.joinpath(part)
    return node.read_text(encoding="utf-8")


def init_project(directory: str | Path = ".", *, dry_run: bool = False) -> InitReport:
    """Install the slash command, conventions, MCP registration and Alembic naming
    into `directory`; never overwrite. With `dry_run`, report without writing."""
    root = Path(directory)
    if not root.is_dir():
        raise UsageError(f"{root} is not a directory", "give the project's root directory")
    report = InitReport(directory=str(root.resolve()))
    writes: list[tuple[Path, str]] = []

    def plan(rel: str, text: str | None, action: Action, detail: str = "") -> None:
        report.actions.append(InitAction(path=rel, action=action, detail=detail))
        if text is not None:
            writes.append((root / rel, text))

    for rel, name in (
        (".claude/commands/migration.md", "commands/migration.md"),
        (".claude/conventions.md", "conventions.md"),
    ):
        wanted = asset(name)
        path = root / rel
        if not path.exists():
            plan(rel, wanted, "created")
        elif _read(path) == wanted:
            plan(rel, None, "skipped", "already up to date")
        else:
            plan(rel, None, "skipped", "exists; left as it is")

    rel, text, action, detail = _mcp_json(root)
    plan(rel, text, action, detail)

    rel, text, action, detail = _alembic_ini(root)
    plan(rel, text, action, detail)

    if not dry_run:
        for path, text in writes:
            write_atomic(path, text)
    return report


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}", "fix or remove the file") from None


def _mcp_json(root: Path) -> tuple[str, str | None, Action, str]:
    rel = ".mcp.json"
    entry = json.loads(asset("mcp.json"))["mcpServers"][SERVER_NAME]
    path = root / rel
    if not path.exists():
        return rel, _dump({"mcpServers": {SERVER_NAME: entry}}), "created", ""
    text = _read(path)
    try:
        config = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{path} is not valid JSON (line {exc.lineno}: {exc.msg})",
            f'fix it, or add the "{SERVER_NAME}" server to it by hand',
        ) from None
    servers = config.get("mcpServers") if isinstance(config, dict) else None
    if not isinstance(config, dict) or not isinstance(servers, dict | None):
        raise UsageError(
            f'{path} does not have the {{"mcpServers": {{...}}}} shape Claude Code reads',
            f'fix it, or add the "{SERVER_NAME}" server to it by hand',
        )
    if servers and SERVER_NAME in servers:
        return rel, None, "skipped", f'already registers an MCP server named "{SERVER_NAME}"'
    merged = dict(config)
    merged["mcpServers"] = {**(servers or {}), SERVER_NAME: entry}
    kept = len(servers or {})
    return rel, _dump(merged), "updated", f'added the "{SERVER_NAME}" server; kept {kept} other(s)'


def _dump(config: dict) -> str:
    return json.dumps(config, indent=2, ensure_ascii=False) + "\n"


_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")
_FILE_TEMPLATE = re.compile(r"^file_template\s*[=:]")
_COMMENTED_TEMPLATE = re.compile(r"^#\s*file_template\s*[=:]")
_SCRIPT_LOCATION = re.compile(r"^script_location\s*[=:]")


def _alembic_ini(root: Path) -> tuple[str, str | None, Action, str]:
    rel = "alembic.ini"
    path = root / rel
    if not path.is_file():
        return rel, None, "skipped", "no alembic.ini in this directory"
    text = _read(path)
    new = set_file_template(text)
    if new is None:
        return rel, None, "skipped", "already sets a file_template"
    if new is False:
        return rel, None, "skipped", "has no [alembic] section"
    return rel, new, "updated", "set file_template for YYYY_MM_DD_HHMM_<slug>.py names"


def set_file_template(text: str) -> str | Literal[False] | None:
    """alembic.ini text with `file_template` set in its [alembic] section.

    None when the section already sets one, False when there is no [alembic]
    section. The line goes after Alembic's commented-out example, else after
    `script_location`, else right after the section header; comments and
    layout are kept as they are.
    """
    lines = text.splitlines(keepends=True)
    start = end = None
    for i, line in enumerate(lines):
        m = _SECTION.match(line)
        if m and start is None and m.group(1).strip() == "alembic":
            start = i
        elif m and start is not None:
            end = i
            break
    if start is None:
        return False
    end = len(lines) if end is None else end
    body = range(start + 1, end)
    if any(_FILE_TEMPLATE.match(lines[i]) for i in body):
        return None
    anchor = next((i for i in body if _COMMENTED_TEMPLATE.match(lines[i])), None)
    if anchor is None:
        anchor = next((i for i in body if _SCRIPT_LOCATION.match(lines[i])), start)
    if not lines[anchor].endswith("\n"):
        lines[anchor] += "\n"
    lines.insert(anchor + 1, f"file_template = {FILE_TEMPLATE}\n")
    return "".join(lines)
