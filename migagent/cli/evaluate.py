"""`migagent eval`: score a drafting backend on golden migrations.

The gates (`--min-pass-rate`, `--max-wrong`, `--max-wrong-rate`) exit 1 with one
line per gate missed, after the reports are written, so CI keeps the reports
of a failing run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from migagent.cli.app import app, err, out
from migagent.errors import UsageError
from migagent.evals.report import CaseResult, EvalReport
from migagent.files import write_atomic

_OUTCOME_STYLE = {
    "pass": "[green]pass[/]",
    "refused": "[yellow]refused[/]",
    "wrong": "[red]wrong[/]",
    "error": "[magenta]error[/]",
}


@app.command("eval")
def eval_command(
    cases: Annotated[
        Path | None,
        typer.Option(metavar="DIR", help="Folder of eval cases (default: the bundled suite)."),
    ] = None,
    backend: Annotated[
        Literal["offline", "claude"], typer.Option(help="The drafting backend to score.")
    ] = "offline",
    workers: Annotated[int, typer.Option(min=1, metavar="N", help="Cases run in parallel.")] = 2,
    case: Annotated[
        list[str] | None,
        typer.Option("--case", metavar="CASE_ID", help="Run only this case (repeatable)."),
    ] = None,
    json_file: Annotated[
        Path | None, typer.Option("--json", metavar="FILE", help="Write the JSON report here.")
    ] = None,
    junit_file: Annotated[
        Path | None,
        typer.Option("--junit", metavar="FILE", help="Write a JUnit XML report here."),
    ] = None,
    markdown_file: Annotated[
        Path | None,
        typer.Option("--markdown", metavar="FILE", help="Write a Markdown report here."),
    ] = None,
    min_pass_rate: Annotated[
        float | None,
        typer.Option(
            min=0.0, max=1.0, metavar="RATE", help="Exit 1 below this pass rate (0 to 1)."
        ),
    ] = None,
    max_wrong: Annotated[
        int | None,
        typer.Option(min=0, metavar="N", help="Exit 1 when more than N cases get a wrong draft."),
    ] = None,
    max_wrong_rate: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            metavar="RATE",
            help="Exit 1 when the share of wrong drafts is above this (0 to 1).",
        ),
    ] = None,
    sandbox_url: Annotated[
        str | None,
        typer.Option(envvar="MIGAGENT_SANDBOX_URL", metavar="URL", help="Sandbox server URL."),
    ] = None,
) -> None:
    """Draft every case with a backend and score the drafts on a real database:
    applies, schema and data match the golden, reversible, lint-safe, complete spec.

    Each case ends as pass, refused (no draft), wrong (a draft failing a check, or
    any draft for a must-be-refused case) or error (the harness failed)."""
    from migagent.evals.runner import load_cases, run_eval

    selected = load_cases(cases, case or ())
    if not selected:
        raise UsageError(f"no eval cases in {cases}", "each case is a folder with a case.toml")

    progress = Progress(
        TextColumn("[bold]eval[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    with progress:
        task = progress.add_task("", total=len(selected))

        def advance(result: CaseResult) -> None:
            progress.update(task, advance=1, description=result.id)

        report = run_eval(
            selected, backend=backend, workers=workers, sandbox_url=sandbox_url, on_result=advance
        )

    for path, text in (
        (json_file, report.to_json),
        (junit_file, report.to_junit),
        (markdown_file, report.to_markdown),
    ):
        if path is not None:
            write_atomic(path, text())

    out.print(_table(report))
    out.print(f"{report.total} cases in {report.seconds:.1f} s on backend {report.backend}")
    missed = gate_failures(report, min_pass_rate, max_wrong, max_wrong_rate)
    for line in missed:
        err.print(line)
    if missed:
        raise typer.Exit(1)


def _table(report: EvalReport) -> Table:
    table = Table(title=report.summary())
    for column in ("case", "outcome", "why", "s"):
        table.add_column(column)
    for result in report.cases:
        table.add_row(
            result.id, _OUTCOME_STYLE[result.outcome], result.why(), f"{result.seconds:.1f}"
        )
    return table


def gate_failures(
    report: EvalReport,
    min_pass_rate: float | None,
    max_wrong: int | None,
    max_wrong_rate: float | None,
) -> list[str]:
    """One line per gate the report misses; empty when every gate given holds."""
    missed = []
    if min_pass_rate is not None and report.pass_rate < min_pass_rate:
        missed.append(
            f"pass rate {report.pass_rate:.1%} is below --min-pass-rate {min_pass_rate:.1%}"
        )
    if max_wrong is not None and report.wrong > max_wrong:
        missed.append(f"{report.wrong} wrong drafts are more than --max-wrong {max_wrong}")
    if max_wrong_rate is not None and report.wrong_rate > max_wrong_rate:
        missed.append(
            f"wrong-draft rate {report.wrong_rate:.1%} ({report.wrong}/{report.total}) "
            f"is above --max-wrong-rate {max_wrong_rate:.1%}"
        )
    return missed
