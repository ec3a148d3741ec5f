"""The SQL each check runs on the target, composed with psycopg.sql.

Identifiers go through `sql.Identifier`, values through `sql.Literal`; the
expressions that come from the revision itself (CHECK bodies, index keys and
predicates, USING) are pglast's re-deparse of what the migration will run, so
they are embedded as SQL. Every query is a single read-only SELECT.

Shapes:
- "rows": `(violating, example, scanned)`; `scanned` only when sampled;
- "groups" (unique): `(groups, rows, example, scanned, est_groups, est_rows)`;
- "trial": runs a conversion over the rows; an error is the answer.

Sampling reads `TABLESAMPLE SYSTEM (p) REPEATABLE (0)` with p chosen for about
`sample_rows` rows. For duplicates a sample of rows would miss most pairs, so
the sampled unique query instead collects the sampled rows' keys and counts
those keys exactly over the whole table (one scan, no full aggregation); a
group of size n is found with probability 1-(1-f)^n, which the estimate inverts.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, LiteralString

from psycopg import sql

from migagent.tools.lint.rules.base import type_spec_from_text
from migagent.tools.preflight.model import PreflightCheck

INT_RANGES: dict[str, tuple[int, int]] = {
    "int2": (-(2**15), 2**15 - 1),
    "int4": (-(2**31), 2**31 - 1),
    "int8": (-(2**63), 2**63 - 1),
}
_SPACE = "[[:space:]]*"
PATTERNS: dict[str, str] = {
    "int": f"^{_SPACE}[+-]?[0-9]+{_SPACE}$",
    "numeric": (
        f"^{_SPACE}([+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)(e[+-]?[0-9]+)?|[+-]?(nan|inf|infinity))"
        f"{_SPACE}$"
    ),
    "bool": f"^{_SPACE}(t|tr|tru|true|f|fa|fal|fals|false|y|ye|yes|n|no|on|of|off|1|0){_SPACE}$",
    "uuid": "^([{][0-9a-f]{4}(-?[0-9a-f]{4}){7}[}]|[0-9a-f]{4}(-?[0-9a-f]{4}){7})$",
}


@dataclass(frozen=True)
class Sample:
    percent: float  # TABLESAMPLE SYSTEM percentage
    fraction: float  # expected share of the table's rows


@dataclass(frozen=True)
class Probe:
    query: sql.Composed
    shape: Literal["rows", "groups", "trial"]


def ident(qualified: str) -> sql.Identifier:
    schema, _, name = qualified.partition(".")
    return sql.Identifier(schema, name)


def alias(check: PreflightCheck) -> sql.Identifier:
    """The table's bare name: CHECK bodies and USING may qualify columns with it."""
    return sql.Identifier(check.table.partition(".")[2])


def col(check: PreflightCheck, name: str | None = None) -> sql.Composed:
    return sql.SQL("{}.{}").format(alias(check), sql.Identifier(name or check.columns[0]))


def _text(expr: sql.Composable) -> sql.Composed:
    return sql.SQL("left(({})::text, 80)").format(expr)


def _example(check: PreflightCheck) -> sql.Composable:
    cols = [col(check, c) for c in check.columns]
    if not cols:
        return sql.NULL
    if len(cols) == 1:
        return _text(cols[0])
    return _text(sql.SQL("ROW({})").format(sql.SQL(", ").join(cols)))


def _sampled_source(check: PreflightCheck, sample: Sample) -> sql.Composed:
    return sql.SQL(
        "WITH {a} AS MATERIALIZED (SELECT * FROM {t} TABLESAMPLE SYSTEM ({p}) REPEATABLE (0)) "
    ).format(a=alias(check), t=ident(check.table), p=sql.Literal(sample.percent))


def rows_query(
    check: PreflightCheck,
    violation: sql.Composable,
    sample: Sample | None,
    example: sql.Composable | None = None,
) -> Probe:
    ex = _example(check) if example is None else example
    if sample is None:
        q = sql.SQL("SELECT count(*), min({ex}), NULL::bigint FROM {t} AS {a} WHERE {v}").format(
            ex=ex, t=ident(check.table), a=alias(check), v=violation
        )
    else:
        q = _sampled_source(check, sample) + sql.SQL(
            "SELECT count(*), min({ex}), (SELECT count(*) FROM {a}) FROM {a} WHERE {v}"
        ).format(ex=ex, a=alias(check), v=violation)
    return Probe(q, "rows")


# --------------------------------------------------------------------------- kinds


def revision_sql(text: str) -> sql.SQL:
    """SQL text taken from the revision under proof (an expression, a type, a USING clause),
    deparsed by pglast, spliced in as SQL. psycopg's `sql.SQL` asks for a LiteralString so
    that untrusted text cannot be spliced by accident; this text is the very SQL the
    revision runs on the target, and every probe runs read-only."""
    return sql.SQL(typing.cast(LiteralString, text))


def _all_not_null(exprs: Sequence[sql.Composable]) -> sql.Composable:
    return sql.SQL(" AND ").join(sql.SQL("({}) IS NOT NULL").format(e) for e in exprs)


def not_null(check: PreflightCheck, sample: Sample | None) -> Probe:
    return rows_query(check, sql.SQL("{} IS NULL").format(col(check)), sample, sql.NULL)


def every_row(check: PreflightCheck, sample: Sample | None) -> Probe:
    return rows_query(check, sql.SQL("true"), sample, sql.NULL)


def non_null_values(check: PreflightCheck, sample: Sample | None) -> Probe:
    return rows_query(check, sql.SQL("{} IS NOT NULL").format(col(check)), sample, sql.NULL)


def check_expr(check: PreflightCheck, sample: Sample | None) -> Probe:
    if check.expression is None:  # planning gives every "check" its expression
        raise ValueError(f"check probe on {check.table} without an expression")
    return rows_query(
        check, sql.SQL("({}) IS FALSE").format(revision_sql(check.expression)), sample
    )


def foreign_key(check: PreflightCheck, sample: Sample | None) -> Probe:
    keys = [col(check, c) for c in check.columns]
    parent = sql.Identifier("migagent_parent")
    nonnull = _all_not_null(keys)
    if check.ref_created:
        orphan: sql.Composable = nonnull
    else:
        match = sql.SQL(" AND ").join(
            sql.SQL("{}.{} = {}").format(parent, sql.Identifier(r), k)
            for r, k in zip(check.ref_columns, keys, strict=True)
        )
        missing = sql.SQL("NOT EXISTS (SELECT 1 FROM {t} AS {p} WHERE {m})").format(
            t=ident(check.ref_table or ""), p=parent, m=match
        )
        orphan = sql.SQL("{} AND {}").format(nonnull, missing)
        if check.match_full and len(keys) > 1:
            some = sql.SQL(" OR ").join(sql.SQL("{} IS NOT NULL").format(k) for k in keys)
            partly = sql.SQL(" OR ").join(sql.SQL("{} IS NULL").format(k) for k in keys)
            orphan = sql.SQL("(({s}) AND ({p})) OR ({o})").format(s=some, p=partly, o=orphan)
    return rows_query(check, orphan, sample)


def unique(check: PreflightCheck, sample: Sample | None) -> Probe:
    keys: list[sql.Composable] = (
        [revision_sql(e) for e in check.expressions]
        if check.expressions
        else [col(check, c) for c in check.columns]
    )
    conds: list[sql.Composable] = []
    if check.predicate:
        conds.append(sql.SQL("({})").format(revision_sql(check.predicate)))
    if not check.nulls_not_distinct:
        conds.append(_all_not_null(keys))
    where = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conds) if conds else sql.SQL("")
    key_list = sql.SQL(", ").join(keys)
    shown = _text(keys[0]) if len(keys) == 1 else _text(sql.SQL("ROW({})").format(key_list))
    t, a = ident(check.table), alias(check)
    if sample is None:
        q = sql.SQL(
            "SELECT count(*), coalesce(sum(n), 0)::bigint, min(k), NULL::bigint, NULL, NULL FROM"
            " (SELECT count(*) AS n, min({shown}) AS k FROM {t} AS {a}{where}"
            " GROUP BY {keys} HAVING count(*) > 1) AS d"
        ).format(shown=shown, t=t, a=a, where=where, keys=key_list)
        return Probe(q, "groups")
    names = [sql.Identifier(f"k{i}") for i in range(len(keys))]
    picked = sql.SQL(", ").join(
        sql.SQL("{} AS {}").format(k, n) for k, n in zip(keys, names, strict=True)
    )
    row = keys[0] if len(keys) == 1 else sql.SQL("({})").format(key_list)
    sample_where = where if conds else sql.SQL("")
    in_sample = sql.SQL("{} IN (SELECT {} FROM s)").format(row, sql.SQL(", ").join(names))
    full_where = sql.SQL(" WHERE ") + sql.SQL(" AND ").join([*conds, in_sample])
    f = sql.Literal(sample.fraction)
    q = sql.SQL(
        "WITH s AS MATERIALIZED (SELECT {picked} FROM {t} AS {a}"
        " TABLESAMPLE SYSTEM ({p}) REPEATABLE (0){sw}),"
        " d AS (SELECT count(*) AS n, min({shown}) AS k FROM {t} AS {a}{fw}"
        " GROUP BY {keys} HAVING count(*) > 1)"
        " SELECT count(*), coalesce(sum(n), 0)::bigint, min(k), (SELECT count(*) FROM s),"
        " sum(1 / (1 - power(1 - {f}::float8, n))), sum(n / (1 - power(1 - {f}::float8, n)))"
        " FROM d"
    ).format(
        picked=picked,
        t=t,
        a=a,
        p=sql.Literal(sample.percent),
        sw=sample_where,
        shown=shown,
        fw=full_where,
        keys=key_list,
        f=f,
    )
    return Probe(q, "groups")


def _valid(check: PreflightCheck) -> sql.Composable:
    """A predicate, true when the column's value converts (never raises)."""
    value = sql.SQL("({})::text").format(_value(check))
    method = check.method
    if method == "enum_labels":
        labels = sql.SQL(", ").join(sql.Literal(v) for v in check.labels)
        return sql.SQL("{} IN ({})").format(value, labels) if check.labels else sql.SQL("false")
    if method == "length":
        return sql.SQL("char_length({}) <= {}").format(value, sql.Literal(check.max_length))
    if method == "pg_input_is_valid":
        return sql.SQL("pg_input_is_valid({}, {})").format(value, sql.Literal(check.type_name))
    target = _base_type(check)
    if method == "range":
        lo, hi = INT_RANGES[target]
        return sql.SQL("round(({})::numeric) BETWEEN {} AND {}").format(
            col(check), sql.Literal(lo), sql.Literal(hi)
        )
    # pattern
    if target in INT_RANGES:
        lo, hi = INT_RANGES[target]
        return sql.SQL(
            "CASE WHEN {v} ~ {p} THEN ({v})::numeric BETWEEN {lo} AND {hi} ELSE false END"
        ).format(v=value, p=sql.Literal(PATTERNS["int"]), lo=sql.Literal(lo), hi=sql.Literal(hi))
    return sql.SQL("{} ~* {}").format(value, sql.Literal(PATTERNS[target]))


def _base_type(check: PreflightCheck) -> str:
    spec = type_spec_from_text(check.type_name or "")
    return spec.name if spec else ""


def _value(check: PreflightCheck) -> sql.Composable:
    """What is converted: the column, or the USING expression before its final cast."""
    return sql.SQL("({})").format(revision_sql(check.using)) if check.using else col(check)


def cast(check: PreflightCheck, sample: Sample | None) -> Probe:
    if check.method == "trial":
        return trial(check, sample)
    violation = sql.SQL("{} IS NOT NULL AND NOT ({})").format(_value(check), _valid(check))
    return rows_query(check, violation, sample, _text(_value(check)))


def trial(
    check: PreflightCheck, sample: Sample | None, where: sql.Composable | None = None
) -> Probe:
    """Evaluate the conversion on every row (of the sample, or of the rows `where` selects)."""
    expr = revision_sql(check.using) if check.using else col(check)
    conv = sql.SQL("CAST(({}) AS {})").format(expr, revision_sql(check.type_name or "text"))
    cond = sql.SQL(" WHERE ") + where if where is not None else sql.SQL("")
    if sample is None:
        q = sql.SQL("SELECT count({c}), NULL, NULL::bigint FROM {t} AS {a}{w}").format(
            c=conv, t=ident(check.table), a=alias(check), w=cond
        )
    else:
        q = _sampled_source(check, sample) + sql.SQL(
            "SELECT count({c}), NULL, count(*) FROM {a}{w}"
        ).format(c=conv, a=alias(check), w=cond)
    return Probe(q, "trial")


def confirm(check: PreflightCheck, sample: Sample | None) -> Probe:
    """Cast the rows an approximate predicate flagged: an error confirms a real failure."""
    flagged = sql.SQL("{} IS NOT NULL AND NOT ({})").format(col(check), _valid(check))
    return trial(check.model_copy(update={"using": None}), sample, flagged)


BUILDERS = {
    "not_null": not_null,
    "unique": unique,
    "foreign_key": foreign_key,
    "check": check_expr,
    "cast": cast,
    "add_column_not_null": every_row,
    "drop_column": non_null_values,
    "drop_table": every_row,
}


def probe(check: PreflightCheck, sample: Sample | None) -> Probe:
    return BUILDERS[check.kind](check, sample)
