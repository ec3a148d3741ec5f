"""`migagent eval`: score a drafting backend on golden migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from migagent.cli.app import app, err, out
from migagent.errors import UsageError
from migagent.files import write_atomic


@app.command("eval")
def eval_command(
    cases: Annotated[
        Path | None, typer.Option(help="Folder of eval cases (default: the bundled suite).")
    ] = None,
    backend: Annotated[str, typer.Option(help="offline or claude.")] = "offline",
    workers: Annotated[int, typer.Option(min=1, help="Cases run in parallel.")] = 2,
    case: Annotated[
        list[str] | None, typer.Option("--case", help="Run only this case (repeatable).")
    ] = None,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Write the JSON report here.")
    ] = None,
    junit_file: Annotated[
        Path | None, typer.Option("--junit", help="Write a JUnit XML report here.")
    ] = None,
    markdown_file: Annotated[
        Path | None, typer.Option("--markdown", help="Write a Markdown report here.")
    ] = None,
    min_pass_rate: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Exit 1 below this pass rate (0 to 1)."),
    ] = None,
    sandbox_url: Annotated[
        str | None, typer.Option(envvar="MIGAGENT_SANDBOX_URL", help="Sandbox server URL.")
    ] = None,
) -> None:
    """Draft every case with a backend and score the drafts on a real database:
    applies, schema and data match the golden, reversible, lint-safe, complete spec."""
    from migagent.evals.runner import load_cases, run_eval

    if backend not in {"offline", "claude"}:
        raise UsageError(f"unknown backend {backend!r}", "use --backend offline or claude")
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

        def advance(result) -> None:
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

    table = Table(title=f"{report.passed}/{report.total} passed ({report.pass_rate:.0%})")
    for column in ("case", "passed", "failed checks / error", "s"):
        table.add_column(column)
    for result in report.cases:
        why = result.error or ", ".join(result.checks.failed())
        table.add_row(
            result.id,
            "[green]yes[/]" if result.passed else "[red]no[/]",
            why,
            f"{result.seconds:.1f}",
        )
    out.print(table)
    out.print(f"{report.total} cases in {report.seconds:.1f} s on backend {report.backend}")
    if min_pass_rate is not None and report.pass_rate < min_pass_rate:
        err.print(f"pass rate {report.pass_rate:.0%} is below --min-pass-rate {min_pass_rate:.0%}")
        raise typer.Exit(1)
