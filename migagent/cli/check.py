"""`migagent check` (not yet implemented)."""

from __future__ import annotations

from migagent.cli.app import app
from migagent.errors import NotYetError


@app.command("check", help="(not yet available)")
def check_command() -> None:
    raise NotYetError(
        "`migagent check` is not available yet", "see the README for what works today"
    )
