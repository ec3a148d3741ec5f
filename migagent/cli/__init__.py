"""Command-line interface: `migagent <command>`. Each command is a module here.

`main` (the console script) imports the commands itself, inside its Ctrl-C
handling: a Ctrl-C while typer, rich and the commands load is the same one
line and exit 130 as one during a command, never a traceback.
"""

from __future__ import annotations

import sys
from typing import Any


def _load() -> Any:
    """Import every command module (each registers itself on the app); return the app."""
    from migagent.cli import (  # noqa: F401  (imported for their @app.command registrations)
        check,
        draft,
        estimate,
        evaluate,
        init,
        introspect,
        lint,
        mcp,
        sandbox,
        verify,
    )
    from migagent.cli.app import app

    return app


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point (see `migagent.cli.app.main`)."""
    try:
        _load()
        from migagent.cli.app import main as run
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    run(argv)


def __getattr__(name: str) -> Any:
    if name == "app":  # `from migagent.cli import app`, as before
        return _load()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["app", "main"]
