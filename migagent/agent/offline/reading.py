"""The reading of a request, built once and shared (read-only) by every intent.

Commit-message noise is stripped, double-quoted identifiers become one-word
tokens the resolver maps back exactly, verbs are reduced to their base form
("Adds" -> "add"), and a "table: add ..." scope is turned into "add ... to
table", so each intent matches one normalised text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from migagent.agent import plan as P
from migagent.agent.offline.lexicon import base_verbs, protect_quoted, strip_commit_noise
from migagent.agent.offline.resolve import Resolver
from migagent.tools.introspect.model import SchemaSnapshot

# "warehouses: add region": the table first, as commit messages scope them
_SCOPED = re.compile(
    r"\s*([a-z_][\w.]*)\s*:\s*((?:add|create|introduce)\b(?:(?!\b(?:to|on|in)\b).)*)$", re.I
)


@dataclass(frozen=True)
class Reading:
    request: str  # the request without commit-message noise
    facts: P.Facts
    quoted: dict[str, str]  # token -> the identifier as written in double quotes
    r: Resolver  # tables and columns the words name
    text: str  # the normalised request
    low: str  # `text` in lower case: what intent triggers match

    @property
    def snap(self) -> SchemaSnapshot:
        return self.facts.snapshot


def read_request(request: str, facts: P.Facts) -> Reading:
    """Normalise `request` once: every intent reads the same text and resolver."""
    cleaned = strip_commit_noise(request.strip())
    protected, quoted = protect_quoted(cleaned)
    text = base_verbs(protected)
    head = _SCOPED.match(text)
    if head and Resolver(facts.snapshot, head.group(1)).table_named(head.group(1), fuzzy=False):
        text = f"{head.group(2).rstrip(' .')} to {head.group(1)}"
    r = Resolver(facts.snapshot, text, quoted)
    return Reading(request=cleaned, facts=facts, quoted=quoted, r=r, text=r.text, low=r.low)
