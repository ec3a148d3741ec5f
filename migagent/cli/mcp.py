"""`migagent mcp`: serve migagent's drafting tools over MCP on stdio (see `agent/mcp_server.py`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from migagent.cli.app import app


@app.command("mcp")
def mcp_command(
    db: str | None = typer.Option(
        None,
        "--db",
        help="Target database, only ever read (default: MIGAGENT_DATABASE_URL, DATABASE_URL, "
        "then sqlalchemy.url in alembic.ini).",
    ),
    schema_file: Annotated[
        Path | None,
        typer.Option("--schema-file", help="Use this schema (.sql) instead of a target database."),
    ] = None,
    sandbox_url: str | None = typer.Option(
        None,
        "--sandbox-url",
        help="Server for scratch databases (default: MIGAGENT_SANDBOX_URL, else embedded).",
    ),
    rows: Annotated[
        list[str] | None,
        typer.Option("--rows", help="Table size, TABLE=N (repeatable; e.g. orders=50M)."),
    ] = None,
    project: Annotated[
        Path,
        typer.Option("--project", help="The project (with alembic.ini) the tools work for."),
    ] = Path("."),
) -> None:
    """Serve the migagent tools (introspect, describe, stats, query, scratch SQL, verify,
    lint, estimate, submit, check) over MCP on stdin/stdout, for Claude Code:
    register it with `migagent init`, which writes .mcp.json."""
    from migagent.agent.mcp_server import ToolboxSource, serve_stdio
    from migagent.tools.lint import parse_rows

    serve_stdio(
        ToolboxSource(
            db=db,
            schema_file=str(schema_file) if schema_file else None,
            sandbox_url=sandbox_url,
            rows=parse_rows(rows or []),
            project_dir=project.resolve(),
        )
    )
