"""Command-line interface: `migagent <command>`. Each command is a module here."""

from migagent.cli import (  # noqa: F401  (imported for their @app.command registrations)
    check,
    draft,
    estimate,
    evaluate,
    init,
    introspect,
    lint,
    mcp,
    verify,
)
from migagent.cli.app import app, main

__all__ = ["app", "main"]
