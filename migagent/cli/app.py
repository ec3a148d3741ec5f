"""The typer application and the one place errors become exit codes.

Commands live one per module beside this file and only translate options into
calls on `migagent.tools` / `migagent.agent`; they hold no logic of their own.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from migagent.errors import MigagentError

app = typer.Typer(
    name="migagent",
    help=(
        "Draft safe PostgreSQL migrations (an Alembic revision plus a migration spec) "
        "from a one-line request, and prove them on a throwaway copy of the schema: "
        "introspect, verify, lint, estimate, draft."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)

out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
) -> None:
    """Global options."""


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: one line on stderr and exit 2 for user errors."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        app(args=args, prog_name="migagent")
    except MigagentError as exc:
        if debug:
            raise
        err.print(f"[bold red]error:[/] {exc}", markup=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
