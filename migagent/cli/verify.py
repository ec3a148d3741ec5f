"""`migagent verify` (not yet implemented)."""

from __future__ import annotations

from migagent.cli.app import app
from migagent.errors import NotYetError


@app.command("verify", help="(not yet available)")
def verify_command() -> None:
    raise NotYetError(
        "`migagent verify` is not available yet", "see the README for what works today"
    )
