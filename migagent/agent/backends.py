"""Choosing a drafting backend by name: `--backend auto|offline|claude`.

`select_backend(name, env)` is the one place the choice is made, for
`migagent draft`, `migagent eval` and the MCP server alike:

- `offline`: the offline planner; never needs a key.
- `claude`: Claude with migagent's tools; without `ANTHROPIC_API_KEY` it is a
  one-line UsageError (exit 2) that says how to fix it.
- `auto` (the default): Claude when `ANTHROPIC_API_KEY` is set, else the
  offline planner with a notice saying so.

The result carries the `ClaudeSettings` (`--model` / `MIGAGENT_MODEL`,
`--max-turns`, `--token-budget`) the Claude backend runs with, so a caller only
passes the options through.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from migagent.agent.claude import API_KEY_ENV, ClaudeSettings
from migagent.errors import UsageError

BACKEND_NAMES = ("auto", "offline", "claude")

FALLBACK_NOTICE = (
    f"{API_KEY_ENV} is not set: drafting with the offline planner "
    "(set the key, or pass --backend claude, to let Claude draft)"
)


@dataclass(frozen=True)
class BackendChoice:
    """Which backend drafts, and why."""

    name: Literal["offline", "claude"]
    requested: str
    notice: str | None = None  # print this to stderr when set (e.g. the auto fallback)
    claude: ClaudeSettings | None = None  # set when name == "claude"


def select_backend(
    name: str = "auto",
    env: Mapping[str, str] | None = None,
    *,
    model: str | None = None,
    max_turns: int | None = None,
    token_budget: int | None = None,
    time_limit: float | None = None,
) -> BackendChoice:
    """Resolve `--backend NAME` against the environment (default: `os.environ`)."""
    env = os.environ if env is None else env
    wanted = (name or "auto").strip().lower()
    if wanted not in BACKEND_NAMES:
        raise UsageError(f"unknown backend {name!r}", f"use one of: {', '.join(BACKEND_NAMES)}")
    if wanted == "offline":
        return BackendChoice(name="offline", requested=wanted)
    settings = ClaudeSettings.from_env(
        env, model=model, max_turns=max_turns, token_budget=token_budget, time_limit=time_limit
    )
    if settings.api_key:
        return BackendChoice(name="claude", requested=wanted, claude=settings)
    if wanted == "claude":
        settings.require_key()  # raises the one-line UsageError
    return BackendChoice(name="offline", requested=wanted, notice=FALLBACK_NOTICE)
