"""`migagent init` (not yet implemented)."""

from __future__ import annotations

from migagent.cli.app import app
from migagent.errors import NotYetError


@app.command("init", help="(not yet available)")
def init_command() -> None:
    raise NotYetError("`migagent init` is not available yet", "see the README for what works today")
