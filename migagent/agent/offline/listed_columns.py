"""Several new columns listed in one request ("add due_on date and paid_on date to
invoices"): every item of the list is added, or the request is refused naming it.

The intents plan one column; this reads the list the request gives after its verb,
plans each item the plan does not already add as a request of its own, and merges
the operations, so nothing listed is silently left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from migagent.agent import plan as P
from migagent.agent.errors import UnderstandingError
from migagent.agent.offline.lexicon import find_type
from migagent.agent.offline.reading import Reading

# "add <items> to <table>" (a "table: add ..." scope is already turned into this form)
_TO_TABLE = re.compile(r"\badd\s+(?P<items>.+?)\s+(?:to|on|in)\s+(?:the\s+)?(?P<table>[\w$.]+)")
# "add t.a <type>, t.b <type>": every item names its table
_DOTTED = re.compile(r"\badd\s+(?P<items>[\w$]+\.[\w$]+.*)$")
# words that qualify the column before them, never start a new one
_MODIFIERS = re.compile(
    r"(?:not\s+null|nullable|null|required|optional|mandatory|unique|indexed|default\b.*|"
    r"with\b.*|as\b.*|columns?|fields?|both|each|too|also|please)$"
)
_LEAD = re.compile(r"^(?:an?|the|new|nullable|optional|required|columns?)\s+")


def _items(text: str) -> list[str]:
    """`text` split at commas and "and" outside parentheses ("numeric(12,2)" is one)."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and ch == ",":
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    items = [part for chunk in out for part in re.split(r"\s+and\s+", chunk)]
    return [re.sub(r"^and\s+", "", x.strip()) for x in items if x.strip()]


def _first_name(item: str) -> str | None:
    """The column an item names: its first identifier after articles and modifiers."""
    item = item.strip(" .;")
    while (m := _LEAD.match(item)) is not None:
        item = item[m.end() :]
    if not item or _MODIFIERS.fullmatch(item):
        return None
    m = re.match(r"(?:([\w$]+)\.)?([a-z_][\w$]*)\s*", item)
    if m is None:
        return None
    typed = find_type(item[m.end() :].lstrip("( "))
    # a column spec names the column, then its type ("paid_on date", "t.x (numeric)");
    # anything else after a comma is another clause ("backfill it", "one of a, b")
    if m.group(1) is None and (typed is None or typed[1] != 0):
        return None
    return m.group(2)


def add_listed_columns(
    plan: P.DraftPlan, reading: Reading, plan_one: Callable[[str], P.DraftPlan]
) -> P.DraftPlan:
    """`plan` with every column the request lists added (via `plan_one` per item)."""
    added = [op for op in plan.operations if isinstance(op, P.AddColumn)]
    if not added:
        return plan
    table = added[0].table
    m = _DOTTED.search(reading.low) or _TO_TABLE.search(reading.low)
    if m is None:
        return plan
    items = _items(m.group("items"))
    if len(items) < 2:
        return plan
    have = {op.column.name for op in added}
    for item in items:
        name = _first_name(item)
        if name is None or name in have or any(h.startswith(f"{name}_") for h in have):
            continue  # "settlement period": the words of a column already added
        target = item if "." in item.split()[0] else f"{item} to {table}"
        try:
            more = plan_one(f"add {target}")
        except UnderstandingError as exc:
            raise UnderstandingError(
                f"I understood adding {', '.join(sorted(have))} but not {item!r}: {exc.problem}",
                [f"the draft would only: {plan.intent}"],
                f"list each column with its type, e.g. 'add {name} text to {table.split('.')[-1]}'",
            ) from None
        new_ops = [op for op in more.operations if op not in plan.operations]
        if not any(isinstance(op, P.AddColumn) for op in new_ops):
            raise UnderstandingError(
                f"I understood adding {', '.join(sorted(have))} but could not add {item!r}",
                [f"the draft would only: {plan.intent}"],
            )
        plan.operations.extend(new_ops)
        plan.assumptions.extend(a for a in more.assumptions if a not in plan.assumptions)
        have |= {op.column.name for op in new_ops if isinstance(op, P.AddColumn)}
    if len(have) > len(added):
        plan.intent = f"Add {', '.join(sorted(have))} to {table.split('.')[-1]}"
    return plan
