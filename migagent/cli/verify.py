"""`migagent verify REVISION_FILE`: prove a revision on a scratch copy of its starting schema.

Options only; the work is `migagent.tools.verify.verify_revision`. Exit 0 when
every step passed, 1 when verification failed, 2 for usage/environment errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from migagent.cli.app import app, out
from migagent.errors import UsageError
from migagent.tools.verify import (
    DEFAULT_LOCK_TIMEOUT_MS,
    DEFAULT_STATEMENT_TIMEOUT_MS,
    RevisionSource,
    StartingPoint,
    VerificationReport,
    find_project,
)
from migagent.tools.verify.runner import short_sql

_MARK = {
    "passed": "[green]passed[/]",
    "warning": "[yellow]warning[/]",
    "failed": "[bold red]FAILED[/]",
    "skipped": "[dim]skipped[/]",
}


@app.command("verify")
def verify_command(
    revision_file: Annotated[
        Path, typer.Argument(metavar="FILE", help="The Alembic revision file (.py).")
    ],
    db: str | None = typer.Option(
        None,
        "--db",
        metavar="URL",
        help="Start from this database's schema (copied; never modified).",
    ),
    schema_file: Annotated[
        Path | None,
        typer.Option(
            "--schema-file",
            metavar="FILE",
            help="Start from this SQL file (schema, optionally rows).",
        ),
    ] = None,
    history: bool = typer.Option(
        False,
        "--history",
        help="Start from the Alembic project's history, upgraded to the revision's "
        "down_revision (the default when neither --db nor --schema-file is given).",
    ),
    rows: int = typer.Option(
        100, "--rows", metavar="N", min=0, help="Rows to generate per empty table (0: none)."
    ),
    check: list[str] = typer.Option(  # noqa: B008
        [],
        "--check",
        metavar="SQL",
        help="A verification query to run after the upgrade (repeatable).",
    ),
    checks_file: Annotated[
        Path | None,
        typer.Option(
            "--checks-file",
            metavar="FILE",
            help="A file of verification queries (separated by ';').",
        ),
    ] = None,
    lock_timeout: int = typer.Option(
        DEFAULT_LOCK_TIMEOUT_MS, "--lock-timeout", metavar="MS", min=1, help="lock_timeout, ms."
    ),
    statement_timeout: int = typer.Option(
        DEFAULT_STATEMENT_TIMEOUT_MS,
        "--statement-timeout",
        metavar="MS",
        min=1,
        help="statement_timeout, ms.",
    ),
    no_round_trip: bool = typer.Option(
        False, "--no-round-trip", help="Only upgrade (skip downgrade and upgrade again)."
    ),
    sandbox_url: str | None = typer.Option(
        None,
        "--sandbox-url",
        metavar="URL",
        envvar="MIGAGENT_SANDBOX_URL",
        help="Server for scratch databases (default: the embedded PostgreSQL).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Run upgrade, downgrade and upgrade again on a scratch copy, and report what happened."""
    source = RevisionSource.from_path(revision_file)
    start = _starting_point(source, db, schema_file, history)
    queries = list(check) + (_read_checks(checks_file) if checks_file else [])
    from migagent.tools.proof import ProofInputs, prove
    from migagent.tools.sandbox import Sandbox

    sandbox = Sandbox.open(sandbox_url)
    if db:
        inputs = ProofInputs.for_target(sandbox, db, sample_rows=rows)
    else:
        inputs = ProofInputs(sandbox=sandbox, start=start, sample_rows=rows)
    proof = prove(
        source,
        inputs,
        checks=queries,
        lint=False,
        require_change=False,
        lock_timeout_ms=lock_timeout,
        statement_timeout_ms=statement_timeout,
        check_round_trip=not no_round_trip,
    )
    report = proof.verification
    assert report is not None
    if as_json:
        data = report.model_dump(mode="json")
        data["passed"] = proof.passed
        if proof.preflight is not None:
            data["preflight"] = proof.preflight.model_dump(mode="json")
        data["notices"] = proof.notices
        import json

        out.print_json(json.dumps(data))
    else:
        print_report(report, proof.passed)
        print_proof_extras(proof)
    raise typer.Exit(proof.exit_code)


def print_proof_extras(proof) -> None:
    """What the target's rows said, and what the proof had to leave out."""
    if proof.preflight is not None and proof.preflight.results:
        out.print("target preflight (read-only, on the target's rows):", style="bold")
        for r in proof.preflight.results:
            mark = {"ok": "ok", "violations": "FAILS", "unknown": "unknown"}.get(r.status, r.status)
            out.print(f"  {mark}: {r.message}", markup=False)
    for note in proof.notices:
        out.print(f"notice: {note}", markup=False, style="yellow")
    if not proof.passed and proof.preflight_failures:
        out.print(f"FAILED on the target's data: {proof.detail}", markup=False, style="bold red")


def _starting_point(
    source: RevisionSource, db: str | None, schema_file: Path | None, history: bool
) -> StartingPoint:
    given = [name for name, v in (("--db", db), ("--schema-file", schema_file)) if v]
    if history:
        given.append("--history")
    if len(given) > 1:
        raise UsageError(
            f"{' and '.join(given)} both name a starting schema", "give only one of them"
        )
    if db:
        return StartingPoint.target(db)
    if schema_file:
        if not schema_file.is_file():
            raise UsageError(f"schema file {schema_file} does not exist", "give a .sql file")
        return StartingPoint.schema_file(schema_file)
    if history or (source.path is not None and find_project(source.path) is not None):
        return StartingPoint.history()
    raise UsageError(
        "no starting schema: the revision is not inside an Alembic project",
        "give --db URL or --schema-file before.sql",
    )


def _read_checks(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read checks file {path}: {exc}", "give a readable file") from None
    try:
        import pglast

        return [q.strip() for q in pglast.split(text) if q.strip()]
    except Exception:
        return [q.strip() for q in text.split(";") if q.strip()]


# ------------------------------------------------------------------ output
def print_report(report: VerificationReport, passed: bool | None = None) -> None:
    """The report; `passed` is the proof's verdict when it differs (the target's rows)."""
    ok = report.passed if passed is None else passed
    verdict = "[bold green]PASSED[/]" if ok else "[bold red]FAILED[/]"
    rev = report.revision or "?"
    out.print(
        f"{verdict}  revision [bold]{rev}[/] ({report.source}) from {report.starting_point}"
        f" in {report.duration_ms / 1000:.2f}s",
        markup=True,
    )
    steps = Table(show_header=False, box=None, pad_edge=False)
    steps.add_column("step", style="bold")
    steps.add_column("status")
    steps.add_column("why")
    for s in report.steps:
        steps.add_row(s.name, _MARK[s.status], "\n".join(s.reasons))
    out.print(steps)
    if report.failure and report.failure.location:
        out.print(f"  at {report.failure.location}", markup=False)

    statements = [s for s in report.upgrade if not s.internal]
    if statements:
        table = Table(title="upgrade statements", title_justify="left", show_lines=False)
        table.add_column("#", justify="right")
        table.add_column("SQL")
        table.add_column("ms", justify="right")
        table.add_column("locks")
        table.add_column("rewrite")
        for s in statements:
            locks = ", ".join(
                f"{lk.mode} {lk.relation}" + ("" if lk.observed else " (documented)")
                for lk in s.locks
                if lk.relkind != "index" and not lk.new_relation
            )
            table.add_row(
                str(s.index),
                short_sql(s.sql, 70) + (f"\n[red]{s.error}[/]" if s.error else ""),
                f"{s.duration_ms:.1f}",
                locks or "-",
                ", ".join(s.rewrites) or "-",
            )
        out.print(table)
    if report.schema_changes:
        out.print("[bold]schema changes[/]", markup=True)
        for c in report.schema_changes:
            out.print(f"  {c.detail}", markup=False)
    if report.data_loss.findings:
        out.print(f"[bold]data loss risk: {report.data_loss.risk}[/]", markup=True)
        for f in report.data_loss.findings:
            out.print(f"  {f.detail}", markup=False)
    for c in report.checks:
        mark = "ok" if c.ok else "FAILED"
        shown = "; ".join(", ".join("NULL" if v is None else v for v in row) for row in c.rows[:3])
        more = f" (+{c.row_count - 3} rows)" if c.row_count > 3 else ""
        out.print(
            f"  check {mark}: {short_sql(c.sql, 60)} -> {c.error or shown or '(no rows)'}{more}",
            markup=False,
        )
