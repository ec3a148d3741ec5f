"""The name a request gives a new column, read against the table it adds to."""

from __future__ import annotations

import re

from migagent.agent.offline.common import (
    NOUN_TYPES,
)
from migagent.agent.offline.context import Ctx
from migagent.agent.offline.lexicon import (
    find_type,
    snake,
)
from migagent.agent.offline.resolve import STOP
from migagent.tools.introspect.model import Table


def new_column_name(ctx: Ctx, t: Table) -> tuple[str, int] | None:
    # table.new_column after an add/new verb
    for m, col in ctx.r.dotted():
        if (
            m.table is t
            and not t.column(col)
            and re.search(r"\b(?:add|adding|new|need|needs|introduce|create)\b", ctx.low[: m.start])
        ):
            return ctx.new_name(snake(col), m.end), m.end
    phrase = noun_phrase_name(ctx, t)
    if phrase is not None:
        return phrase
    pats = [
        r"\badd(?:ing)?\s+(?:a\s+|an\s+|the\s+)?(?:new\s+)?(?:nullable\s+|optional\s+|required\s+|non-null\s+)?(?:column|field)\s+(?:called\s+|named\s+)?[`'\"]?([a-z_][\w]*)",
        r"\b(?:add(?:ing)?|need(?:s)?|new|want|introduce|store|track|create)\s+(?:a\s+|an\s+|the\s+)?(?:new\s+)?(?:nullable\s+|optional\s+|required\s+|non-null\s+)?[`'\"]?([a-z_][\w]*(?:\s+[a-z_][\w]*)?)[`'\"]?\s+(?:column|field|attribute)\b",
        # "documents need an archived flag": the flag is the column's type (boolean)
        r"\b(?:add(?:ing)?|need(?:s)?|new|want|introduce|store|track)\s+(?:a\s+|an\s+|the\s+)?(?:new\s+)?[`'\"]?([a-z_][\w]*)[`'\"]?\s+(?=flag\b)",
        r"\b(?:column|field)\s+(?:called\s+|named\s+)?[`'\"]([a-z_][\w]*)[`'\"]",
        r"\b(?:column|field)\s+(?:called\s+|named\s+)[`'\"]?([a-z_][\w]*)",
        r"\badd(?:ing)?\s+(?:a\s+|an\s+)?(?:new\s+)?(?:nullable\s+|optional\s+)?[`'\"]?([a-z_][\w]*)[`'\"]?\s+(?:to|on)\s+(?:the\s+)?[a-z_]",
        r"\b(?:add|adding)\s+([a-z_]\w*)\s*\(",
        r"\b(?:new|add|adding)\b[^.;]{0,40}?\b(?:column|field)\s+([a-z_]\w*)",
        r"\b(?:add|adding)\s+(?:a\s+|an\s+)?(?:new\s+)?(?:nullable\s+|optional\s+)?([a-z_]\w*)\s+(?=[a-z(])",
    ]
    bad = {
        "index",
        "constraint",
        "check",
        "default",
        "foreign",
        "unique",
        "extension",
        "enum",
        "type",
        "primary",
        "trigger",
        "table",
    }
    for p in pats:
        for m in re.finditer(p, ctx.r.text, re.I):
            raw = m.group(1).strip().lower()
            words_ = raw.split()
            if len(words_) == 2 and find_type(words_[0]):
                raw = words_[1]  # "a boolean archived column"
            elif len(words_) == 2 and (words_[0] in STOP or find_type(words_[1])):
                raw = words_[1] if words_[0] in STOP else words_[0]
            name = snake(raw)
            whole_type = find_type(name)
            if name in STOP or name in bad or (whole_type and whole_type[2] == len(name)):
                continue
            if ctx.snap.table(name) and not t.column(name):
                continue
            if p == pats[-1]:
                # "add is_verified bool ...": the name must be followed by a type
                after = ctx.low[m.end(1) : m.end(1) + 40]
                ft = find_type(after)
                if not ft or ft[1] > 3:
                    continue
            return ctx.new_name(name, m.end(1)), m.end(1)
    return None


def noun_phrase_name(ctx: Ctx, t: Table) -> tuple[str, int] | None:
    """A new column named by plain words whose last word is also a type name: "add
    billing interval to plans", "add an expected delivery date to parcels". The words
    are the name (billing_interval, expected_delivery_date), never `billing` of type
    interval; its type then comes from the name's conventions or is asked for. Words
    that together name an existing enum type ("add risk level to merchants") are read
    the same way. The words end at the table (`to plans`) or, when the request is
    scoped to `t` ("plans: add billing interval, monthly or annual"), at punctuation."""
    enum_names = "|".join(re.escape(e.name.replace("_", " ")) for e in ctx.snap.enums.values())
    tail = f"{NOUN_TYPES}|{enum_names}" if enum_names else NOUN_TYPES
    m = re.search(
        r"\b(?:add|introduce|store|track)\s+(?:a\s+|an\s+|the\s+)?(?:new\s+)?"
        r"(?:nullable\s+|optional\s+|required\s+)?((?:[a-z][a-z0-9]*\s+){0,3}?)"
        rf"({tail})(?:\s+(?:column\s+|field\s+)?(?:to|on|in|for)\s+(?:the\s+)?([a-z_][\w.]*)"
        r"|\s*(?=[,;:(]|\s-\s))",
        ctx.low,
    )
    if not m:
        return None
    words_ = m.group(1).split()
    if any(w in STOP or find_type(w) for w in words_):
        return None
    name = snake(" ".join([*words_, m.group(2)]))
    if "_" not in name:
        return None  # one word ("add interval ..."): the ordinary patterns read it
    named = m.group(3)
    if named is not None and t not in ctx.r.table_named(named.split(".")[-1]):
        return None
    if named is None and t is not ctx.r.subject_table(required=False):
        return None
    ctx.phrase_name = name
    return ctx.new_name(name, m.end(2)), m.end(2)
