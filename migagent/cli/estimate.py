"""`migagent estimate` (not yet implemented)."""

from __future__ import annotations

from migagent.cli.app import app
from migagent.errors import NotYetError


@app.command("estimate", help="(not yet available)")
def estimate_command() -> None:
    raise NotYetError(
        "`migagent estimate` is not available yet", "see the README for what works today"
    )
