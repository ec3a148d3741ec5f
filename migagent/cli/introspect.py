"""`migagent introspect`: the current schema as DDL, JSON or Markdown."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer

from migagent.cli.app import app
from migagent.errors import UsageError
from migagent.tools import target
from migagent.tools.introspect import SchemaSnapshot, snapshot, snapshot_url
from migagent.tools.introspect.ddl import render_ddl


@app.command("introspect")
def introspect_command(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="URL",
            help="Target database URL (else MIGAGENT_DATABASE_URL, DATABASE_URL, alembic.ini). "
            "Only read.",
        ),
    ] = None,
    schema_file: Annotated[
        Path | None,
        typer.Option(
            "--schema-file",
            metavar="FILE",
            help="Read the schema from a SQL file instead, loaded into a scratch database.",
        ),
    ] = None,
    sandbox_url: Annotated[
        str | None,
        typer.Option(
            "--sandbox-url",
            metavar="URL",
            help="Server for --schema-file's scratch database (default: the embedded PostgreSQL).",
        ),
    ] = None,
    tables: Annotated[
        list[str] | None,
        typer.Option(
            "--table",
            "-t",
            metavar="TABLE",
            help="Only this table (repeatable; `name` or `schema.name`).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the snapshot as JSON.")] = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print architecture Markdown.")
    ] = False,
    stats: Annotated[
        bool,
        typer.Option("--stats/--no-stats", help="Show estimated rows and sizes above each table."),
    ] = True,
) -> None:
    """Print the current schema as DDL (default), JSON or Markdown, with table sizes."""
    if as_json and markdown:
        raise UsageError("--json and --markdown cannot be combined", "choose one output format")
    snap = read_snapshot(db=db, schema_file=schema_file, sandbox_url=sandbox_url)
    names = _resolve_tables(snap, tables or [])
    if as_json:
        shown = _only(snap, names)
        if not stats:
            _clear_stats(shown)
        text = shown.model_dump_json(indent=2) + "\n"
    elif markdown:
        from migagent.render.architecture import render_architecture

        text = render_architecture(_only(snap, names))
    else:
        text = render_ddl(snap, names or None, stats=stats)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def read_snapshot(
    *, db: str | None, schema_file: Path | None, sandbox_url: str | None = None
) -> SchemaSnapshot:
    """The snapshot for the command line's source: --schema-file, else the target."""
    if schema_file is not None and db is not None:
        raise UsageError("give either --db or --schema-file, not both", "drop one of the two")
    if schema_file is not None:
        from migagent.tools.sandbox import Sandbox

        with warnings.catch_warnings():
            # platformdirs warns once about XDG_RUNTIME_DIR when the server wheel is imported
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
            sandbox = Sandbox.open(sandbox_url)
            template = sandbox.template_from_file(schema_file)
        with sandbox.scratch(template) as scratch, scratch.connect() as conn:
            snap = snapshot(conn)
        snap.database = schema_file.name
        return snap
    url = target.resolve_target_url(db)
    if url is None:
        raise UsageError(
            "no database to introspect",
            "pass --db URL, set MIGAGENT_DATABASE_URL or DATABASE_URL, run in an Alembic "
            "project with sqlalchemy.url set, or give --schema-file FILE.sql",
        )
    return snapshot_url(url)


def _resolve_tables(snap: SchemaSnapshot, names: list[str]) -> list[str]:
    resolved = []
    for name in names:
        table = snap.table(name)
        if table is None:
            known = ", ".join(sorted(snap.tables)) or "none"
            raise UsageError(f"table {name} is not in the schema", f"tables: {known}"[:400])
        resolved.append(table.qualified_name)
    return resolved


def _only(snap: SchemaSnapshot, names: list[str]) -> SchemaSnapshot:
    if not names:
        return snap
    copy = snap.model_copy(deep=True)
    keep = set(names) | {t.qualified_name for t in snap.tables.values() if t.partition_of in names}
    copy.tables = {k: t for k, t in copy.tables.items() if k in keep}
    return copy


def _clear_stats(snap: SchemaSnapshot) -> None:
    for table in snap.tables.values():
        table.row_estimate = table.total_bytes = table.table_bytes = 0
        for index in table.indexes:
            index.size_bytes = 0
    for seq in snap.sequences.values():
        seq.last_value = None
