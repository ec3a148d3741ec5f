"""The typer application and the one place errors become exit codes.

Commands live one per module beside this file and only translate options into
calls on `migagent.tools` / `migagent.agent`; they hold no logic of their own.
They are listed in `migagent.cli.commands` and imported only when they run
(`migagent.cli.group.LazyGroup`).
"""

from __future__ import annotations

import contextlib
import sys

import typer
from rich.console import Console

from migagent.cli.group import LazyGroup
from migagent.errors import MigagentError

app = typer.Typer(
    name="migagent",
    cls=LazyGroup,
    help=(
        "Draft safe PostgreSQL migrations (an Alembic revision plus a migration spec) "
        "from a one-line request, and prove them on a throwaway copy of the schema: "
        "introspect, draft, verify, lint, estimate, check."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)

out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        out.print(f"migagent {version('migagent')}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
    show_version: bool = typer.Option(
        False,
        "--version",
        help="Print the version and exit.",
        callback=_print_version,
        is_eager=True,
    ),
) -> None:
    """Global options."""


INTERRUPTED = 130  # 128 + SIGINT, as shells report it


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: one line on stderr and exit 2 for user errors;
    Ctrl-C is "interrupted" and exit 130 wherever it lands (typer turns one inside a
    command into a silent exit 130, so that gets the line too)."""
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
        _interrupted()
    except SystemExit as exc:
        if exc.code == INTERRUPTED and _from_interrupt(exc):
            _interrupted()
        raise


def _from_interrupt(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _interrupted() -> None:
    from migagent.cli import TERMINATED, terminated

    with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C while saying so
        err.print("terminated" if terminated() else "interrupted")
    sys.exit(TERMINATED if terminated() else INTERRUPTED)
