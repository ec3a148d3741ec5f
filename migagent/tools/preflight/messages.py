"""One-line messages and the data facts of each check's outcome."""

from __future__ import annotations

from migagent.tools.datafacts import DataFact
from migagent.tools.preflight.model import PreflightCheck
from migagent.tools.sql import quote_ident, quote_literal


def rows(n: int) -> str:
    return f"{n:,} row" + ("" if n == 1 else "s")


def _cols(check: PreflightCheck) -> str:
    return ", ".join(check.expressions or check.columns)


def _eg(example: str | None) -> str:
    return f" (e.g. {example!r})" if example is not None else ""


def finding(check: PreflightCheck, n: int, groups: int | None, example: str | None) -> str:
    """What the violating rows are, e.g. `37 rows of public.products have sku NULL`."""
    t, cols = check.table, _cols(check)
    have = "has" if n == 1 else "have"
    match check.kind:
        case "not_null":
            return f"{rows(n)} of {t} {have} {cols} NULL"
        case "unique":
            where = f" where {check.predicate}" if check.predicate else ""
            g = groups or 0
            return (
                f"{rows(n)} of {t} share {cols}{where} in {g:,} duplicate group"
                f"{'' if g == 1 else 's'}{_eg(example)}"
            )
        case "foreign_key":
            parent = (
                f"{check.ref_table} (created empty by this revision)"
                if check.ref_created
                else check.ref_table
            )
            return f"{rows(n)} of {t} {have} {cols} with no row in {parent}{_eg(example)}"
        case "check":
            verb = "violates" if n == 1 else "violate"
            return f"{rows(n)} of {t} {verb} CHECK ({check.expression}){_eg(example)}"
        case "cast":
            one = n == 1
            value = f"a {cols} value" if one else f"{cols} values"
            if check.method == "length":
                verb = ("is" if one else "are") + " longer than"
                if check.truncates:
                    verb = "would be truncated to"
                limit = f"{check.max_length} characters"
                return f"{rows(n)} of {t} {have} {value} that {verb} {limit}{_eg(example)}"
            if check.method == "enum_labels":
                return (
                    f"{rows(n)} of {t} {have} {value} not among the labels of"
                    f" {check.type_name}{_eg(example)}"
                )
            does = "does" if one else "do"
            return (
                f"{rows(n)} of {t} {have} {value} that {does} not convert to"
                f" {check.type_name}{_eg(example)}"
            )
        case "add_column_not_null":
            return f"{t} has {rows(n)}, and the new NOT NULL column has no default to fill them"
        case "drop_column":
            return f"dropping {t}.{cols} loses {n:,} non-null value{'' if n == 1 else 's'}"
        case "drop_table":
            return f"dropping {t} loses {rows(n)}"
    raise ValueError(check.kind)  # pragma: no cover


def passed(check: PreflightCheck) -> str:
    t, cols = check.table, _cols(check)
    match check.kind:
        case "not_null":
            return f"{t}.{cols} has no NULLs"
        case "unique":
            where = f" where {check.predicate}" if check.predicate else ""
            return f"{t} ({cols}){where} has no duplicates"
        case "foreign_key":
            return f"every {t} ({cols}) has a row in {check.ref_table}"
        case "check":
            return f"every row of {t} satisfies CHECK ({check.expression})"
        case "cast":
            return f"every {t}.{cols} value converts to {check.type_name}"
        case "add_column_not_null":
            return f"{t} has no rows: the new NOT NULL column needs no default"
        case "drop_column":
            return f"dropping {t}.{cols} loses no values (all NULL)"
        case "drop_table":
            return f"dropping {t} loses no rows (it is empty)"
    raise ValueError(check.kind)  # pragma: no cover


def fact(check: PreflightCheck, sampled: bool) -> DataFact | None:
    """What an "ok" establishes about the target's rows (none for information kinds)."""
    source = "preflight sample" if sampled else "preflight"
    match check.kind:
        case "not_null":
            return DataFact(
                kind="not_null", columns=check.columns, table=check.table, source=source
            )
        case "unique":
            return DataFact(
                kind="unique",
                columns=() if check.expressions else check.columns,
                expressions=check.expressions,
                predicate=check.predicate,
                nulls_not_distinct=check.nulls_not_distinct,
                table=check.table,
                source=source,
            )
        case "foreign_key" if not check.ref_created:
            return DataFact(
                kind="references",
                columns=check.columns,
                ref_table=check.ref_table,
                ref_columns=check.ref_columns,
                table=check.table,
                source=source,
            )
        case "check":
            return DataFact(
                kind="check", expression=check.expression, table=check.table, source=source
            )
        case "cast" if check.method == "length":
            return DataFact(
                kind="max_length",
                columns=check.columns,
                max_length=check.max_length,
                table=check.table,
                source=source,
            )
        case "cast" if check.method == "enum_labels" and not check.using:
            labels = ", ".join(quote_literal(v) for v in check.labels)
            expression = f"({quote_ident(check.columns[0])})::text IN ({labels})"
            return DataFact(kind="check", expression=expression, table=check.table, source=source)
        case "cast" if not check.using:
            return DataFact(
                kind="castable",
                columns=check.columns,
                type_name=check.type_name,
                table=check.table,
                source=source,
            )
    return None
