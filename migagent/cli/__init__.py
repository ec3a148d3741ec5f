"""Command-line interface: `migagent <command>`. Each command is a module here.

`main` (the console script) imports the app inside its Ctrl-C handling, and the
app imports a command's module only when that command runs (see `group.py`),
inside typer's: a Ctrl-C while typer, rich and the command load is the same one
line and exit 130 as one during a command, never a traceback.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from migagent.cli.app import app  # at run time, `__getattr__` below


def _load() -> Any:
    """The app; its commands import when they are resolved (`migagent.cli.group`)."""
    from migagent.cli.app import app

    return app


TERMINATED = 143  # 128 + SIGTERM
_terminated = False


def terminated() -> bool:
    """Whether a SIGTERM (not a Ctrl-C) is what interrupted this run."""
    return _terminated


def _terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM as a Ctrl-C, not a kill: `finally` blocks and atexit handlers run, so
    scratch databases are dropped and the embedded server is released (Python's
    default SIGTERM ends the process without running either). The current SIGINT
    handler runs, so code that tells a real interrupt from a revision's own
    `raise KeyboardInterrupt` (the verify runner) sees a real one."""
    global _terminated
    _terminated = True
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):
        handler(signal.SIGINT, frame)
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point (see `migagent.cli.app.main`)."""
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread (an embedding application)
        previous = None
    try:
        try:
            _load()
            from migagent.cli.app import main as run
        except KeyboardInterrupt:
            sys.stderr.write("terminated\n" if _terminated else "interrupted\n")
            sys.exit(TERMINATED if _terminated else 130)
        run(argv)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def __getattr__(name: str) -> Any:
    if name == "app":  # `from migagent.cli import app`, as before
        return _load()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["app", "main"]
