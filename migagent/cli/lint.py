"""`migagent lint` (not yet implemented)."""

from __future__ import annotations

from migagent.cli.app import app
from migagent.errors import NotYetError


@app.command("lint", help="(not yet available)")
def lint_command() -> None:
    raise NotYetError("`migagent lint` is not available yet", "see the README for what works today")
