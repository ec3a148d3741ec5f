"""`migagent introspect` (not yet implemented)."""

from __future__ import annotations

from migagent.cli.app import app
from migagent.errors import NotYetError


@app.command("introspect", help="(not yet available)")
def introspect_command() -> None:
    raise NotYetError(
        "`migagent introspect` is not available yet", "see the README for what works today"
    )
