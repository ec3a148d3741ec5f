"""`migagent lint`: static analysis of what migrations will do to a live database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from migagent.cli.app import app, out
from migagent.errors import UsageError


@app.command("lint")
def lint_command(
    files: Annotated[
        list[Path],
        typer.Argument(metavar="FILE...", help="Alembic revision files (.py) and .sql files."),
    ],
    db: str | None = typer.Option(
        None,
        "--db",
        metavar="URL",
        help="Read table sizes, version and indexes from this database (read-only).",
    ),
    rows: Annotated[
        list[str] | None,
        typer.Option(
            "--rows",
            metavar="TABLE=N",
            help="Table size (repeatable; e.g. orders=50M). Wins over --db.",
        ),
    ] = None,
    pg_version: str | None = typer.Option(
        None,
        "--pg-version",
        metavar="VERSION",
        help="Target PostgreSQL major version (default: --db's, else 18).",
    ),
    large_rows: int | None = typer.Option(
        None,
        "--large-rows",
        metavar="N",
        min=1,
        help="Rows from which a blocking rewrite/scan is an error, not a note (default 100000).",
    ),
    timezone: str | None = typer.Option(
        None,
        "--timezone",
        metavar="ZONE",
        help="Session TimeZone the migration runs with (default: --db's).",
    ),
    lock_timeout_set: bool = typer.Option(
        False, "--lock-timeout-set", help="The runner (env.py) already sets lock_timeout."
    ),
    sql_in_transaction: bool = typer.Option(
        False,
        "--sql-in-transaction",
        help="Lint .sql files as if a runner wraps each in one transaction.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print findings as a JSON list."),
    as_sarif: bool = typer.Option(False, "--sarif", help="Print SARIF 2.1.0 for code scanning."),
) -> None:
    """Lint migrations: lock modes, rewrites and scans judged by real table sizes.

    Exit 0 without errors, 1 with errors, 2 for bad input or an unreachable --db."""
    from migagent.tools.lint import (
        LintContext,
        context_from_db,
        lint_files,
        parse_pg_version,
        parse_rows,
    )

    if as_json and as_sarif:
        raise UsageError("--json and --sarif are exclusive", "pick one output format")
    options = {
        "rows": parse_rows(rows or []),
        "pg_version": parse_pg_version(pg_version) if pg_version else None,
        "large_rows": large_rows,
        "timezone": timezone,
        "lock_timeout_preset": lock_timeout_set or None,
    }
    options = {k: v for k, v in options.items() if v is not None}
    ctx = context_from_db(db, **options) if db else LintContext(**options)
    report = lint_files(list(files), ctx, sql_in_transaction=sql_in_transaction)
    if as_json:
        out.print_json(json.dumps(report.to_json()), highlight=False)
    elif as_sarif:
        out.print_json(json.dumps(report.to_sarif()), highlight=False)
    else:
        report.render(out)
    if report.errors:
        raise typer.Exit(1)
