"""`migagent mcp` (not yet implemented)."""

from __future__ import annotations

from migagent.cli.app import app
from migagent.errors import NotYetError


@app.command("mcp", help="(not yet available)")
def mcp_command() -> None:
    raise NotYetError("`migagent mcp` is not available yet", "see the README for what works today")
