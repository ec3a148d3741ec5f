"""Contradictions: a plan whose request also asks for the opposite is refused, not drafted.

What the plan would enforce (NOT NULL, a CHECK, a default) is set against what the
request's words say must stay allowed ("rows without a rating keep it empty",
"overdrafts below zero have to keep working") and against itself (a CHECK no value
passes, a default the CHECK rejects). Pure: `refuse_contradictions(plan, reading)`
raises `UnderstandingError` naming both sides, or returns None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from migagent.agent import plan as P
from migagent.agent.errors import UnderstandingError
from migagent.agent.offline.reading import Reading

# words that say a value must stay possible, and the values they can say it of
_PERMIT = re.compile(
    r"\b(?:keep|keeps|kept|stay|stays|remain|remains|still|allow|allowed|allows|permit\w*|"
    r"continue\w*|be\s+able|working|work|can\s+be|may\s+be|is\s+fine|are\s+fine|ok)\b"
)
_EMPTY = re.compile(r"\b(?:empty|null|nulls|blank|missing|unset)\b|\bwithout\s+(?:a|an|any|one)\b")
_BELOW_ZERO = re.compile(
    r"\b(?:negative|below\s+(?:zero|0)|under\s+(?:zero|0)|less\s+than\s+(?:zero|0)|overdraw\w*|"
    r"overdraft\w*|minus|in\s+the\s+red)\b"
)
_DENY = re.compile(
    r"\b(?:never|not|no|cannot|can't|cant|mustn't|shouldn't|won't|isn't|aren't|don't|"
    r"must\s+not|may\s+not|required|mandatory)\b"
)
_CLAUSE = re.compile(
    r"\s*[;.]\s+|\s*[;]\s*|,?\s+\b(?:but|however|though|although|yet|while|whereas)\b|"
    r",?\s+\band\s+(?:also\s+)?(?=allow|keep|let|permit)|\s+-\s+"
)


@dataclass(frozen=True)
class _Bound:
    op: str
    value: float


_REQUIRE = re.compile(
    r"\brequired\b|\bnot\s+null\b|\bmandatory\b|\bnon-?null(?:able)?\b|\bmust\s+(?:always\s+)?be\s+set\b"
)


def refuse_contradictory_words(reading: Reading) -> None:
    """Refuse a request whose clauses make one column required and let it stay empty
    ("make nickname required and also allow it to be empty"), before any intent reads
    one half of it as the whole."""
    clauses = _clauses(reading.low)
    required = [c for c in clauses if _REQUIRE.search(c) and not _permits(c, _EMPTY)]
    permitted = [c for c in clauses if c not in required and _permits(c, _EMPTY)]
    if not (required and permitted):
        return
    named = {(m.table.name, col) for m, col in reading.r.dotted()}
    try:
        t = reading.r.subject_table(required=False)
    except UnderstandingError:
        return  # which table is unclear: the intents refuse that in their own words
    if t is not None:
        named |= {(t.name, m.column) for m in reading.r.column_mentions(t) if m.column}
    if len(named) > 1:
        return  # two columns: each clause may speak of another one
    column = ".".join(next(iter(named))) if named else "the column"
    raise _clash(
        f"make {column} NOT NULL",
        permitted[0],
        "NOT NULL rejects every empty value, the existing ones included",
        f"'backfill {column} with a placeholder, then make it NOT NULL', or "
        f"'make {column} optional'",
    )


def refuse_contradictions(plan: P.DraftPlan, reading: Reading) -> None:
    """Refuse `plan` when its request asks for a property and its opposite."""
    not_null = _not_null_columns(plan)
    checks = _checks(plan)
    touched = sorted({c for _, c in not_null} | {c for (_, c), _ in checks})
    for clause in _clauses(reading.low):
        permits_empty = _permits(clause, _EMPTY)
        permits_negative = _permits(clause, _BELOW_ZERO)
        if not (permits_empty or permits_negative):
            continue
        column = _column_of(clause, touched, _columns_of_tables(plan, reading))
        if column is None:
            continue
        if permits_empty and any(c == column for _, c in not_null):
            raise _clash(
                f"make {column} NOT NULL",
                clause,
                "NOT NULL rejects every empty value, the existing ones included",
                f"'backfill {column} with a placeholder, then make it NOT NULL', or "
                f"'make {column} required for new rows only' (a CHECK ... NOT VALID)",
            )
        if permits_negative:
            for (_, c), expr in checks:
                if c == column and _passes(expr, column, -1.0) is False:
                    raise _clash(
                        f"add CHECK ({expr})",
                        clause,
                        "the check rejects every value below zero",
                        f"'{column} can never be negative' alone, or an overdraft limit: "
                        f"'{column} can never be below -50000'",
                    )
    for (_, c), expr in checks:
        if _unsatisfiable(expr, c):
            raise _clash(
                f"add CHECK ({expr})",
                expr,
                "no value of the column passes it",
                f"bounds that leave values in between, e.g. '{c} between 0 and 100'",
                self_=True,
            )
        for default in [*_defaults(plan, c), *_defaults_in_words(reading.low, c)]:
            if _passes(expr, c, default) is False:
                shown = f"{default:g}"
                raise _clash(
                    f"add CHECK ({expr})",
                    f"default {c} to {shown}",
                    f"the default {shown} fails the check, so every insert relying on it fails",
                    "a default the check allows, or a check the default passes",
                )


def _clash(
    understood: str, other: str, why: str, example: str, *, self_: bool = False
) -> UnderstandingError:
    said = "a check that contradicts itself" if self_ else f"{understood!r} and {other!r}"
    return UnderstandingError(
        f"the request contradicts itself: I understood {said}; {why}",
        [f"the draft would {understood}"],
        f"say which one holds, e.g. {example}",
    )


def _clauses(low: str) -> list[str]:
    return [c.strip() for c in _CLAUSE.split(low) if c and c.strip()]


def _permits(clause: str, values: re.Pattern[str]) -> bool:
    """Whether `clause` says values of this kind must stay possible (not that they may not):
    within one comma-delimited part, a word of permission and no denial of the value."""
    for part in clause.split(","):
        if not _PERMIT.search(part):
            continue
        for v in values.finditer(part):
            if v.group(0).startswith("without"):
                # "rows without a rating keep it empty": what follows must not deny it
                if not _DENY.search(part[v.end() :]):
                    return True
            elif not _DENY.search(part[: v.start()]):
                return True
    return False


def _column_of(clause: str, touched: list[str], others: list[str]) -> str | None:
    """The constrained column a clause speaks of: named (or its leading word), or the one
    the plan constrains when the clause names no other column ("... keep it empty")."""

    def named(c: str) -> bool:
        words = [c, *c.split("_")]
        return any(re.search(rf"\b{re.escape(w)}s?\b", clause) for w in words if len(w) > 2)

    for c in touched:
        if named(c):
            return c
    if any(re.search(rf"\b{re.escape(c)}s?\b", clause) for c in others if c not in touched):
        return None  # "allow notes to be empty but make title required": another column
    return touched[0] if len(touched) == 1 else None


def _columns_of_tables(plan: P.DraftPlan, reading: Reading) -> list[str]:
    """Every column of the tables the plan changes (what a clause may name instead)."""
    out: list[str] = []
    for op in plan.operations:
        table = getattr(op, "table", None)
        t = reading.snap.table(table) if isinstance(table, str) else None
        out += [c.name.lower() for c in t.columns] if t is not None else []
    return out


def _not_null_columns(plan: P.DraftPlan) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for op in plan.operations:
        if isinstance(op, P.SetNotNull) and op.backfill is None:
            out.append((op.table, op.column))
        elif isinstance(op, P.AddColumn) and not op.column.nullable and op.column.default is None:
            out.append((op.table, op.column.name))
    return out


def _checks(plan: P.DraftPlan) -> list[tuple[tuple[str, str], str]]:
    """((table, column), expression) of each single-column CHECK the plan adds."""
    out: list[tuple[tuple[str, str], str]] = []
    for op in plan.operations:
        if isinstance(op, P.AddCheck):
            cols = set(re.findall(r"[a-z_]\w*", op.expression.lower())) - {"and", "or", "in", "not"}
            if len(cols) == 1:
                out.append(((op.table, cols.pop()), op.expression))
    return out


def _defaults(plan: P.DraftPlan, column: str) -> list[float]:
    values: list[str | None] = []
    for op in plan.operations:
        if isinstance(op, P.SetDefault) and op.column == column:
            values.append(op.default)
        elif isinstance(op, P.AddColumn) and op.column.name == column:
            values.append(op.column.default)
    return [float(v) for v in values if v is not None and _NUMBER.fullmatch(v.strip("'() "))]


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_DEFAULT_WORDS = re.compile(
    r"\bdefault(?:s|ed|ing)?\s+(?:it|them|the\s+\w+|([a-z_][\w.]*))?\s*(?:to|of|=|at|as)\s+'?(-?\d+(?:\.\d+)?)\b"
)


def _defaults_in_words(low: str, column: str) -> list[float]:
    """Numbers the words make a default of `column` ("default it to 0")."""
    out: list[float] = []
    for m in _DEFAULT_WORDS.finditer(low):
        named = m.group(1)
        if named is None or named.split(".")[-1] == column:
            out.append(float(m.group(2)))
    return out


_ATOM = re.compile(r"^\(?\s*([a-z_]\w*)\s*(>=|<=|<>|!=|=|>|<)\s*\(?(-?\d+(?:\.\d+)?)\)?\s*\)?$")


def _bounds(expr: str, column: str) -> list[_Bound] | None:
    """The numeric bounds of `expr` when it is a conjunction of `column <op> number`."""
    out: list[_Bound] = []
    for part in re.split(r"\s+and\s+", expr.strip().strip("()").lower()):
        m = _ATOM.match(part.strip())
        if m is None or m.group(1) != column:
            return None
        out.append(_Bound(m.group(2), float(m.group(3))))
    return out


def _passes(expr: str, column: str, value: float) -> bool | None:
    """Whether `value` passes `expr` (None when the expression is beyond this reading)."""
    bounds = _bounds(expr, column)
    if bounds is None:
        return None
    tests = {
        ">=": lambda b: value >= b,
        "<=": lambda b: value <= b,
        ">": lambda b: value > b,
        "<": lambda b: value < b,
        "=": lambda b: value == b,
        "<>": lambda b: value != b,
        "!=": lambda b: value != b,
    }
    return all(tests[b.op](b.value) for b in bounds)


def _unsatisfiable(expr: str, column: str) -> bool:
    bounds = _bounds(expr, column)
    if not bounds:
        return False
    lows = [(b.value, b.op == ">") for b in bounds if b.op in (">", ">=")]
    highs = [(b.value, b.op == "<") for b in bounds if b.op in ("<", "<=")]
    if not lows or not highs:
        return False
    lo = max(v for v, _ in lows)
    hi = min(v for v, _ in highs)
    strict = any(s for v, s in lows if v == lo) or any(s for v, s in highs if v == hi)
    return lo > hi or (lo == hi and strict)
