"""`migagent check [DIR]`: guard the committed migrations of an Alembic project
(one head, round trip of every revision, lint, paired specs). See `tools/check.py`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from migagent.cli.app import app, out

if TYPE_CHECKING:
    from migagent.tools.check import CheckReport

_MARK = {"passed": "ok", "warning": "ok", "failed": "FAILED", "skipped": "-"}


@app.command("check")
def check_command(
    directory: Annotated[
        Path,
        typer.Argument(metavar="DIR", help="The Alembic project (the folder with alembic.ini)."),
    ] = Path("."),
    since: str | None = typer.Option(
        None,
        "--since",
        metavar="REV",
        help="Only check the revisions after REV (what a pull request adds).",
    ),
    sandbox_url: str | None = typer.Option(
        None,
        "--sandbox-url",
        metavar="URL",
        help="Server for scratch databases (default: MIGAGENT_SANDBOX_URL, else embedded).",
    ),
    db: str | None = typer.Option(
        None,
        "--db",
        metavar="URL",
        help="Lint with table sizes and indexes read from this database (read-only).",
    ),
    rows: Annotated[
        list[str] | None,
        typer.Option(
            "--rows",
            metavar="TABLE=N",
            help="Table size for lint (repeatable; wins over --db).",
        ),
    ] = None,
    pg_version: str | None = typer.Option(
        None,
        "--pg-version",
        metavar="VERSION",
        help="PostgreSQL major version to lint for (default: the sandbox's).",
    ),
    require_specs: bool = typer.Option(
        False, "--require-specs", help="Fail (not just warn) when a revision has no spec."
    ),
    no_roundtrip: bool = typer.Option(
        False, "--no-roundtrip", help="Skip the upgrade/downgrade/upgrade run (no database)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Check committed migrations: one head, a round trip of each, lint, paired specs.

    Exactly one head; every revision upgraded, downgraded and upgraded again in
    one scratch database, base to head; every revision linted; every revision
    paired with docs/migrations/<file>.md.
    Exit 0 when all pass, 1 when a check fails, 2 for usage or environment errors."""
    from migagent.tools.check import build_lint_context, check_project

    report = check_project(
        directory,
        since=since,
        sandbox_url=sandbox_url,
        require_specs=require_specs,
        lint_context=build_lint_context(db, rows, pg_version),
        roundtrip=not no_roundtrip,
    )
    if as_json:
        out.print_json(report.model_dump_json())
    else:
        render(report)
    raise typer.Exit(report.exit_code)


def render(report: CheckReport) -> None:
    p = lambda text="": out.print(text, markup=False)  # noqa: E731
    scope = f" after {report.since}" if report.since else ""
    p(
        f"{report.project}: {len(report.revisions)} revision(s){scope}, head {', '.join(report.heads)}"
    )
    for problem in report.problems:
        p(f"FAILED history: {problem}")
    for r in report.revisions:
        status = "FAILED" if r.problems else "ok"
        parts = [f"round trip {_MARK[r.roundtrip]}"]
        if r.roundtrip in ("passed", "warning"):
            parts[0] += f" ({r.roundtrip_ms:.0f} ms)"
        if r.lint is not None:
            parts.append(
                "lint ok"
                if not (r.lint.errors or r.lint.warnings)
                else f"lint {r.lint.errors} error(s), {r.lint.warnings} warning(s)"
            )
        parts.append("spec ok" if r.spec else "no spec")
        p(f"{status:6} {r.revision}  {r.path}  [{', '.join(parts)}]")
        for problem in r.problems:
            p(f"         error: {problem}")
        for warning in r.warnings:
            p(f"         warning: {warning}")
        if r.lint is not None:
            for finding in r.lint.findings:
                p(f"           {finding}")
    failed = sum(1 for r in report.revisions if r.problems)
    p(
        f"{'FAILED' if not report.passed else 'passed'}: {len(report.revisions) - failed} passed, "
        f"{failed} failed, {len(report.warnings)} warning(s) in {report.duration_ms / 1000:.1f} s"
    )
