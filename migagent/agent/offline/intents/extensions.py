"""Extension intents: enable a PostgreSQL extension."""

from __future__ import annotations

import re

from migagent.agent import plan as P
from migagent.agent.errors import UnderstandingError
from migagent.agent.offline.context import Ctx
from migagent.agent.offline.lexicon import (
    snake,
)


def extension(ctx: Ctx) -> P.DraftPlan | None:
    m = re.search(
        r"\b(?:enable|install|create|add)\s+(?:the\s+)?(?:extension\s+)?[`'\"]?([a-z_][\w-]*)[`'\"]?(?:\s+extension)?",
        ctx.low,
    )
    if not m or m.group(1) in ("extension", "the", "a"):
        return None
    name = m.group(1)
    if not ctx.extension_ops(name):
        raise UnderstandingError(f"extension {name} is already installed")
    ctx.categories += ["extension"]
    return ctx.plan(
        f"Enable extension {name}", [P.CreateExtension(name=name)], f"enable_{snake(name)}"
    )
