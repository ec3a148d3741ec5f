"""Reading PostgreSQL's own deparsed text (`pg_get_constraintdef`, generated-column
expressions): one place for the small string rules several tools need."""

from __future__ import annotations

import re


def balanced(text: str) -> bool:
    """Whether every `(` in `text` closes, in order (so `(a) AND (b)` is, `a) AND (b` is not)."""
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def unwrap(expr: str) -> str:
    """`(a > 0)` -> `a > 0`: one pair of parentheses around the whole expression."""
    expr = expr.strip()
    if expr.startswith("(") and expr.endswith(")") and balanced(expr[1:-1]):
        return expr[1:-1].strip()
    return expr


def check_expression(definition: str) -> str:
    """The boolean expression of a CHECK definition as `pg_get_constraintdef` writes it:
    `CHECK ((price >= 0)) NOT VALID` -> `(price >= 0)`."""
    text = definition.strip()
    text = re.sub(r"\s+NOT VALID$", "", text)
    text = re.sub(r"\s+NO INHERIT$", "", text)
    text = re.sub(r"^CONSTRAINT\s+\S+\s+", "", text)
    if text.upper().startswith("CHECK"):
        text = text[5:].strip()
    return unwrap(text)
