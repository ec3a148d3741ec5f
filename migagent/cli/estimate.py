"""`migagent estimate REVISION_FILE`: time a revision on growing generated data.

Options only; the work is `migagent.tools.estimate.estimate_revision`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from migagent.cli.app import app, err, out
from migagent.errors import UsageError


@app.command("estimate")
def estimate_command(
    revision_file: Annotated[
        Path, typer.Argument(metavar="FILE", help="The Alembic revision file (.py).")
    ],
    schema_file: Annotated[
        Path | None,
        typer.Option("--schema-file", metavar="FILE", help="The starting schema as SQL."),
    ] = None,
    db: str | None = typer.Option(
        None, "--db", metavar="URL", help="The starting schema from this database (read only)."
    ),
    rows: list[str] = typer.Option(  # noqa: B008
        [],
        "--rows",
        metavar="TABLE=N",
        help="Production size of a table (repeatable; e.g. orders=50M).",
    ),
    budget: float = typer.Option(
        20.0, "--budget", metavar="SECONDS", min=1, help="Seconds to spend measuring."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the estimate as JSON."),
    sandbox_url: str | None = typer.Option(
        None,
        "--sandbox-url",
        metavar="URL",
        envvar="MIGAGENT_SANDBOX_URL",
        help="Server for scratch databases.",
    ),
) -> None:
    """Estimate how long a revision takes on production-sized tables.

    Runs the upgrade on generated data at growing sizes in a scratch copy of the
    starting schema (--schema-file, or --db's schema and table sizes) and
    extrapolates to the --rows sizes. Exit 0 with an estimate, 2 for bad input."""
    from migagent.tools.estimate import estimate_revision
    from migagent.tools.policy import parse_rows as _parse_rows
    from migagent.tools.sandbox import Sandbox
    from migagent.tools.target import resolve_target_url
    from migagent.tools.verify.revision import RevisionSource

    source = RevisionSource.from_path(revision_file).text
    sandbox = Sandbox.open(sandbox_url)
    sizes = _parse_rows(rows)
    if schema_file:
        template = sandbox.template_from_file(schema_file)
    else:
        url = resolve_target_url(db)
        if url is None:
            raise UsageError("no starting schema", "give --schema-file or --db")
        from migagent.tools.proof import ProofInputs

        inputs = ProofInputs.for_target(sandbox, url, rows=sizes)
        assert inputs.template is not None
        template, sizes = inputs.template, inputs.sizes()  # the catalog's sizes, --rows over them
    if not sizes:
        raise UsageError("no table sizes to extrapolate to", "give --rows TABLE=N")
    with err.status("timing the upgrade on generated data…"):
        est = estimate_revision(source, template, rows=sizes, sandbox=sandbox, budget_s=budget)
    if as_json:
        out.print_json(json.dumps(est.model_dump(mode="json")))
    else:
        out.print(f"Estimated time: {est.summary}", markup=False)
        out.print(f"Figures: {est.evidence}", markup=False)
