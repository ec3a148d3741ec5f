"""`migagent eval` (not yet implemented)."""

from __future__ import annotations

from migagent.cli.app import app
from migagent.errors import NotYetError


@app.command("eval", help="(not yet available)")
def evaluate_command() -> None:
    raise NotYetError("`migagent eval` is not available yet", "see the README for what works today")
