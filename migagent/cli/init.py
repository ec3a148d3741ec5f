"""`migagent init [DIR]`: install the /migration command, conventions, MCP
registration and Alembic file naming into a project (see `tools/scaffold.py`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from migagent.cli.app import app, out


@app.command("init")
def init_command(
    directory: Annotated[
        Path, typer.Argument(metavar="DIR", help="The project's root directory.")
    ] = Path("."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Report what would change; write nothing."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Set up a project for migagent in Claude Code (slash command, conventions, MCP).

    Installs the `/migration` slash command, `.claude/conventions.md`, the
    `migagent` MCP server in `.mcp.json`, and the `YYYY_MM_DD_HHMM_<slug>.py`
    file_template in alembic.ini. Never overwrites."""
    from migagent.tools.scaffold import init_project

    report = init_project(directory, dry_run=dry_run)
    if as_json:
        out.print_json(json.dumps(report.model_dump()))
        return
    prefix = "would have " if dry_run else ""
    for action in report.actions:
        out.print(f"{prefix}{action}", markup=False)
    if not report.changed:
        out.print("nothing to do: the project is already set up", markup=False)
    elif not dry_run:
        out.print(
            "next: restart Claude Code in this directory, approve the migagent MCP server, "
            "then run /migration <request>",
            markup=False,
        )
