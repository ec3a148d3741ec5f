"""`migagent draft` (not yet implemented)."""

from __future__ import annotations

from migagent.cli.app import app
from migagent.errors import NotYetError


@app.command("draft", help="(not yet available)")
def draft_command() -> None:
    raise NotYetError(
        "`migagent draft` is not available yet", "see the README for what works today"
    )
