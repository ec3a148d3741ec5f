"""`migagent mcp`: serve migagent's drafting tools over MCP on stdio (see `agent/mcp_server.py`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from migagent.cli.app import app
from migagent.errors import UsageError

if TYPE_CHECKING:
    from migagent.agent.mcp_server import LogLevel

LOG_LEVELS: tuple[LogLevel, ...] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@app.command("mcp")
def mcp_command(
    db: str | None = typer.Option(
        None,
        "--db",
        metavar="URL",
        help="Target database, only ever read (default: MIGAGENT_DATABASE_URL, DATABASE_URL, "
        "then sqlalchemy.url in alembic.ini).",
    ),
    schema_file: Annotated[
        Path | None,
        typer.Option(
            "--schema-file",
            metavar="FILE",
            help="Use this schema (.sql) instead of a target database.",
        ),
    ] = None,
    sandbox_url: str | None = typer.Option(
        None,
        "--sandbox-url",
        metavar="URL",
        help="Server for scratch databases (default: MIGAGENT_SANDBOX_URL, else embedded).",
    ),
    rows: Annotated[
        list[str] | None,
        typer.Option("--rows", metavar="TABLE=N", help="Table size (repeatable; e.g. orders=50M)."),
    ] = None,
    project: Annotated[
        Path,
        typer.Option(
            "--project", metavar="DIR", help="The project (with alembic.ini) the tools work for."
        ),
    ] = Path("."),
    verbose: bool = typer.Option(
        False, "--verbose", help="Log each failed tool call to stderr (--log-level INFO)."
    ),
    log_level: str | None = typer.Option(
        None,
        "--log-level",
        metavar="|".join(LOG_LEVELS),
        help="What the server logs to stderr (default WARNING: problems only).",
    ),
) -> None:
    """Serve the migagent tools over MCP on stdin/stdout, for Claude Code.

    The tools: introspect, describe, stats, query, scratch SQL, verify, lint,
    estimate, submit, check. Register the server with `migagent init`, which
    writes .mcp.json. Stderr stays quiet unless something is wrong (--verbose
    for more)."""
    from migagent.agent.mcp_server import ToolboxSource, serve_stdio
    from migagent.tools.lint import parse_rows

    wanted = (log_level or ("INFO" if verbose else "WARNING")).upper()
    levels: dict[str, LogLevel] = {known: known for known in LOG_LEVELS}
    level = levels.get(wanted)
    if level is None:
        raise UsageError(
            f"--log-level {log_level!r} is not a log level", f"use one of {', '.join(LOG_LEVELS)}"
        )
    serve_stdio(
        ToolboxSource(
            db=db,
            schema_file=str(schema_file) if schema_file else None,
            sandbox_url=sandbox_url,
            rows=parse_rows(rows or []),
            project_dir=project.resolve(),
        ),
        log_level=level,
    )
