"""Rules stated in words -> a CHECK expression over one table.

"discount can never be more than the monthly fee", "insured value must not exceed
declared value", "an event has to end after it starts", "weight has to be at least 1",
"rent must be positive": a comparison phrase (with its negation) between two columns,
or a column and a number. Pure reading: `read_rule(text, table, resolver)` returns the
SQL expression, or None when the words hold no such comparison over `table`'s columns.
"""

from __future__ import annotations

import re

from migagent.agent.offline.resolve import Resolver
from migagent.agent.satypes import type_family
from migagent.tools.introspect.model import Table

# comparator phrases, longest first; the operator reads "<left> OP <right>"
_COMPARATORS: list[tuple[str, str]] = [
    (r"(?:greater|more|larger|bigger|higher)\s+than\s+or\s+equal\s+to|no\s+less\s+than|not\s+less\s+than|at\s+least|>=", ">="),
    (r"(?:less|smaller|lower|fewer)\s+than\s+or\s+equal\s+to|no\s+more\s+than|not\s+more\s+than|at\s+most|up\s+to|<=", "<="),
    (r"(?:greater|more|larger|bigger|higher)\s+than|exceed(?:s|ing)?|above|over|>", ">"),
    (r"(?:less|smaller|lower|fewer)\s+than|below|under|<", "<"),
    (r"later\s+than|after", ">"),
    (r"earlier\s+than|before", "<"),
]  # fmt: skip
_NEGATE = {">": "<=", ">=": "<", "<": ">=", "<=": ">"}
_NEGATION = re.compile(
    r"\b(?:never|not|cannot|can't|cant|mustn't|shouldn't|won't|may\s+not|must\s+not|"
    r"should\s+not|is\s+not|are\s+not|isn't|aren't|no\s+longer)\b"
)
_UNIT = re.compile(r"^\s*(?:characters?|chars?|letters?|digits?|bytes?|words?|%|percent)\b")
_NUMBER = re.compile(r"^\s*(?:the\s+)?(-?\d+(?:\.\d+)?|zero|one)\b(?!\s*[-.]\d)")
_SIGN: list[tuple[str, str]] = [
    (r"\bnon-?negative\b|\b(?:zero|0)\s+or\s+(?:more|positive|greater)\b", ">= 0"),
    (r"\bpositive\b", "> 0"),
    (r"\bnegative\b", "< 0"),
]
# what a moment-column's name says it marks, for "ends after it starts"
_END = r"(?:^|_)(?:end|ends|ended|ending|finish|finishes|finished|until|expires?|expiry|close[sd]?|stop|stops)(?:_|$)"
_START = r"(?:^|_)(?:start|starts|started|begin|begins|from|opens?|opened)(?:_|$)"
_END_VERB = r"\b(?:end|ends|finish|finishes|expire|expires|close|closes|stop|stops)\b"
_START_VERB = r"\b(?:start|starts|begin|begins|open|opens)\b"
_MOMENT_NOUN = r"\b(end|finish|expiry|start|begin)\w*\s+(?:date|time|day|timestamp|moment)s?\b"


def _moment(t: Table, pattern: str) -> str | None:
    cands = [
        c.name
        for c in t.columns
        if type_family(c.type) in ("timestamp", "date", "time") and re.search(pattern, c.name)
    ]
    return cands[0] if len(cands) == 1 else None


def _negated(text: str) -> bool:
    return bool(_NEGATION.search(text))


def read_rule(low: str, t: Table, r: Resolver) -> str | None:
    """The CHECK expression a comparison rule in `low` states over `t`, or None."""
    for pattern, op in _COMPARATORS:
        for m in re.finditer(rf"(?<![\w<>=])(?:{pattern})(?![\w<>=])", low):
            right_text = low[m.end() :]
            left_text = low[: m.start()]
            # "ends after it starts": the moments the verbs name
            ev = list(re.finditer(_END_VERB, left_text))
            sv = re.match(rf"\s*(?:it|they|the\s+\w+)?\s*{_START_VERB}", right_text)
            if op in (">", "<") and ev and sv:
                end, start = _moment(t, _END), _moment(t, _START)
                if end and start:
                    expr_op = _NEGATE[op] if _negated(left_text[ev[-1].start() - 30 :]) else op
                    return f"{end} {expr_op} {start}"
            sv2 = list(re.finditer(_START_VERB, left_text))
            ev2 = re.match(rf"\s*(?:it|they|the\s+\w+)?\s*{_END_VERB}", right_text)
            if op in (">", "<") and sv2 and ev2:
                end, start = _moment(t, _END), _moment(t, _START)
                if end and start:
                    expr_op = _NEGATE[op] if _negated(left_text[sv2[-1].start() - 30 :]) else op
                    return f"{start} {expr_op} {end}"
            # "the end date must be after the start date": the moments the nouns name
            ln = list(re.finditer(_MOMENT_NOUN, left_text))
            rn = re.match(rf"\s*(?:the|its|their)?\s*{_MOMENT_NOUN}", right_text)
            if op in (">", "<") and ln and rn and len(left_text) - ln[-1].end() < 40:
                a = _moment(t, _START if ln[-1].group(1).startswith(("start", "begin")) else _END)
                b = _moment(t, _START if rn.group(1).startswith(("start", "begin")) else _END)
                if a and b and a != b:
                    between_ = left_text[ln[-1].end() :]
                    return f"{a} {_NEGATE[op] if _negated(between_) else op} {b}"
            lefts = [x for x in r.column_mentions(t, end=m.start()) if x.column]
            if not lefts:
                continue
            left = lefts[-1]
            between = low[left.end : m.start()]
            if len(between) > 60 or re.search(r"[.;]", between):
                continue
            rights = [x for x in r.column_mentions(t, start=m.end()) if x.column]
            right = None
            num = _NUMBER.match(right_text)
            if num and not _UNIT.match(right_text[num.end() :]):
                right = {"zero": "0", "one": "1"}.get(num.group(1), num.group(1))
            elif rights and rights[0].column != left.column:
                gap = low[m.end() : rights[0].start]
                if re.fullmatch(r"\s*(?:the|its|their|a|an|his|her|this|that)?\s*", gap) or (
                    len(gap) < 25 and not re.search(r"\d|[.;,]", gap)
                ):
                    right = rights[0].column
            if right is None:
                continue
            final = _NEGATE[op] if _negated(between) else op
            return f"{left.column} {final} {right}"
    for pattern, cond in _SIGN:
        m = re.search(pattern, low)
        if not m:
            continue
        lefts = [x for x in r.column_mentions(t, end=m.start()) if x.column]
        left = t.column(lefts[-1].column or "") if lefts else None
        if left is None or type_family(left.type) not in ("int", "num"):
            continue
        between = low[lefts[-1].end : m.start()]
        if len(between) > 40:
            continue
        if _negated(between):
            cond = {"> 0": "<= 0", "< 0": ">= 0", ">= 0": "< 0"}[cond]
        return f"{lefts[-1].column} {cond}"
    return None


RULE_TRIGGER = (
    r"\b(?:more|greater|larger|bigger|higher|less|smaller|lower|fewer|later|earlier)\s+than\b"
    r"|\bexceeds?\b|\bat\s+(?:least|most)\b|\bno\s+(?:more|less)\s+than\b"
    r"|\b(?:end|ends|finish|finishes)\s+(?:after|before)\b|\b(?:start|starts|begin|begins)\s+(?:before|after)\b"
    r"|\b(?:be|is|are|come|comes|fall|falls)\s+(?:always\s+)?(?:after|before)\b"
    r"|\bpositive\b|\bnegative\b"
)
