"""The one policy for table size and rewrites: what "large" means, how `--rows`
is read, and whether a column type change rewrites the table.

Lowering (`agent/lower.py`), the linter (`tools/lint`), the spec
(`agent/specfill.py`), the planner, the toolbox and the architecture notes all
ask these functions, so a draft is lowered to its safe form at exactly the
sizes where the linter would call the plain form an error.

**LARGE_ROWS = 100,000.** From this many rows a table rewrite, a full-table
scan under ACCESS EXCLUSIVE (SET NOT NULL, validating a constraint in the same
transaction) or a non-concurrent index build takes on the order of a second
or more on ordinary hardware, index rebuilds included: long enough that the
queries queued behind the lock pile up on a busy table and, with the
migration's 5 s `lock_timeout`, that the migration itself starts failing.
Below it those operations finish in milliseconds and the plain form is the
simpler, reviewable one. A table also counts as large from LARGE_BYTES
(1 GiB) whatever its row count (wide rows, TOAST), when its size is known.
Override with `--large-rows` (lint, draft) or `large_rows=` in the contexts.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Protocol

from migagent.errors import UsageError

LARGE_ROWS = 100_000
"""Rows from which a table is large: safe forms in lowering, errors in lint."""

LARGE_BYTES = 1024**3
"""Size from which a table is large whatever its row count."""


def is_large(
    rows: int | None, total_bytes: int | None = None, *, large_rows: int | None = None
) -> bool:
    """Whether a table of `rows` rows (and `total_bytes`, when known) needs the online forms."""
    threshold = LARGE_ROWS if large_rows is None else large_rows
    return (rows or 0) >= threshold or (total_bytes or 0) >= LARGE_BYTES


# ---------------------------------------------------------------- --rows
_SUFFIX = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "g": 10**9}
_COUNT = re.compile(r"([0-9][0-9_,]*(?:\.[0-9_]+)?(?:e[+-]?[0-9]+)?)\s*([kmbg]?)", re.I)
_ROWS_HINT = (
    "write TABLE=ROWS, e.g. --rows orders=50000000, --rows orders=50M or --rows public.orders=1.5k"
)


def parse_count(text: str) -> int | None:
    """`50M`, `1.5k`, `2_000`, `12,000,000`, `1e6` -> a whole number of rows; None if it is not one."""
    m = _COUNT.fullmatch(text.strip())
    if not m:
        return None
    try:
        value = Decimal(m.group(1).replace("_", "").replace(",", "")) * _SUFFIX[m.group(2).lower()]
    except InvalidOperation:
        return None
    if value != value.to_integral_value():
        return None
    return int(value)


def parse_rows(values: list[str] | tuple[str, ...] | None) -> dict[str, int]:
    """Repeated `--rows TABLE=N` options -> {table (lower case): rows}; UsageError on bad input."""
    out: dict[str, int] = {}
    for value in values or ():
        table, sep, number = value.partition("=")
        table = table.strip().lower()
        if not sep or not table:
            raise UsageError(f"--rows {value!r} is not TABLE=ROWS", _ROWS_HINT)
        count = parse_count(number)
        if count is None:
            raise UsageError(f"--rows {value!r}: {number.strip()!r} is not a row count", _ROWS_HINT)
        out[table] = count
    return out


# ---------------------------------------------------------------- rewrites
class _Type(Protocol):
    """A column type as the rewrite rules read it (lint's frozen TypeSpec fits)."""

    @property
    def name(self) -> str: ...
    @property
    def mods(self) -> tuple[int, ...]: ...
    @property
    def array(self) -> bool: ...


#: types whose length/precision coercion PostgreSQL drops when the limit grows
#: (their planner support functions: varchar_support, varbit_support,
#: numeric_support, timestamp_support, time_support)
_WIDENABLE = {"varchar", "varbit", "timestamp", "timestamptz", "time", "timetz"}
_UTC = {"UTC", "ETC/UTC", "UCT", "ETC/UCT", "ZULU", "ETC/ZULU", "GMT", "ETC/GMT", "UNIVERSAL"}


def rewrite_needed(old: _Type, new: _Type, pg: int, timezone: str | None) -> bool | None:
    """Whether changing a column from `old` to `new` (without USING) rewrites the table.

    False for PostgreSQL's binary-coercible changes that skip the rewrite:
    varchar/varbit growth or dropping the limit, varchar <-> text (no limit),
    numeric precision growth at equal scale or dropping the constraint,
    timestamp/time precision growth, cidr -> inet, and timestamp <-> timestamptz
    on 12+ when the session TimeZone is UTC. None when that depends on an
    unknown session TimeZone. `pg` is the major version."""
    if old == new:
        return False
    if old.array != new.array:
        return True
    o, n = old.name, new.name
    if o == n and o in _WIDENABLE:
        if not new.mods or (o != "varchar" and o != "varbit" and new.mods[0] >= 6):
            return False  # no limit, or the most precision a timestamp/time keeps anyway
        return not (old.mods and new.mods[0] >= old.mods[0])
    if (o, n) == ("varchar", "text") or (o == "text" and n == "varchar" and not new.mods):
        return False
    if o == n == "numeric":
        old_mods, new_mods = old.mods, new.mods
        if not new_mods:
            return False
        if not old_mods:
            return True
        (old_precision, *old_rest), (new_precision, *new_rest) = old_mods, new_mods
        old_scale = old_rest[0] if old_rest else 0
        new_scale = new_rest[0] if new_rest else 0
        return not (new_scale == old_scale and new_precision >= old_precision)
    if (o, n) == ("cidr", "inet"):
        return False
    if {o, n} == {"timestamp", "timestamptz"} and old.mods == new.mods:
        if pg < 12:
            return True
        if timezone is None:
            return None
        return timezone.upper() not in _UTC
    return True


#: types no other type becomes without a rewrite (every cast to them from another type
#: is a function or I/O cast, none binary-coercible)
_REWRITE_FROM_ANY = {"int2", "int8", "float4", "float8", "bool", "uuid", "date", "jsonb"}


def rewrite_from_unknown(new: _Type) -> bool | None:
    """Whether a change to `new` rewrites when the current type is unknown: True for types
    that every other type rewrites into (`bigint`: only a bigint column would not, and
    changing it to bigint is no change); None (it depends) for the rest."""
    return True if new.name in _REWRITE_FROM_ANY and not new.array else None


def type_rewrites(
    old: str, new: str, *, pg: int, timezone: str | None = None, using: str | None = None
) -> bool | None:
    """`rewrite_needed` for types written as text (`numeric(10,2)`, `character varying(20)`).
    A USING expression always rewrites (every row is recomputed); a type that does not
    parse counts as a rewrite."""
    if using:
        return True
    from migagent.tools.lint.rules.base import type_spec_from_text

    o, n = type_spec_from_text(old), type_spec_from_text(new)
    if o is None or n is None:
        return True
    return rewrite_needed(o, n, pg, timezone)


# ---------------------------------------------------------------- volatility
def default_volatility(expr: str) -> str:
    """`'volatile'`, `'unknown'` or `'stable'` for a column default written as SQL, by the
    linter's rule (`add-column-volatile-default`): a volatile default rewrites the table
    when the column is added. Unparseable text is `'unknown'`."""
    from pglast import ast, parse_sql

    from migagent.tools.lint.rules.columns import volatility

    try:
        select = parse_sql(f"SELECT {expr}")[0].stmt
    except Exception:
        return "unknown"
    if not isinstance(select, ast.SelectStmt) or not select.targetList:
        return "unknown"
    target = select.targetList[0]
    if not isinstance(target, ast.ResTarget) or target.val is None:
        return "unknown"
    return volatility(target.val)[0]
