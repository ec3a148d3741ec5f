"""The command table: each `migagent` command, the module that defines it, and its summary.

`migagent --help` lists the commands from here without importing any of them;
a command's module (and what it pulls in: SQLAlchemy, psycopg, the Anthropic
SDK, MCP) is imported only when that command runs or shows its own help.
Adding a command is one module with an `@app.command(NAME)` and one row here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    module: str
    summary: str  # one line; the first paragraph of the command's own help says the same


COMMANDS: dict[str, Entry] = {
    "introspect": Entry(
        "migagent.cli.introspect",
        "Print the current schema as DDL (default), JSON or Markdown, with table sizes.",
    ),
    "draft": Entry(
        "migagent.cli.draft",
        "Draft a migration from a one-line request, prove it on a scratch copy and write it.",
    ),
    "verify": Entry(
        "migagent.cli.verify",
        "Run upgrade, downgrade and upgrade again on a scratch copy, and report what happened.",
    ),
    "lint": Entry(
        "migagent.cli.lint",
        "Lint migrations: lock modes, rewrites and scans judged by real table sizes.",
    ),
    "estimate": Entry(
        "migagent.cli.estimate",
        "Estimate how long a revision takes on production-sized tables.",
    ),
    "check": Entry(
        "migagent.cli.check",
        "Check committed migrations: one head, a round trip of each, lint, paired specs.",
    ),
    "init": Entry(
        "migagent.cli.init",
        "Set up a project for migagent in Claude Code (slash command, conventions, MCP).",
    ),
    "mcp": Entry(
        "migagent.cli.mcp",
        "Serve the migagent tools over MCP on stdin/stdout, for Claude Code.",
    ),
    "eval": Entry(
        "migagent.cli.evaluate",
        "Score a drafting backend on golden migrations, on a real database.",
    ),
    "sandbox": Entry(
        "migagent.cli.sandbox",
        "The sandbox server: status (without starting it) and stop.",
    ),
}
