"""What the target's rows are like, as facts the generated rows keep too.

A proof on generated rows should fail or pass for the reasons the real rows
would give. The profile reads, without ever writing, what the target says
about its own columns: no NULLs where the target has none, no duplicates where
the target has none, strings no longer than the target's longest. Each becomes
a `DataFact` that `tools.datagen` treats as one more constraint.

Two sources, both bounded (a statement timeout on every query, one query per
table, exact counts only while the time budget lasts):

- "exact count": tables below `exact_below_rows` rows get one aggregate
  query (`count(c)`, `count(DISTINCT c)`, `max(char_length(c))` per column);
- "pg_stats": larger tables get what ANALYZE recorded (`null_frac = 0`:
  no NULLs in the sample; `n_distinct = -(1 - null_frac)`: every sampled
  value distinct), read in a single query for the whole database.

A query that fails (timeout, no privilege) costs its table's facts, nothing more.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, LiteralString

import psycopg
from psycopg import sql

from migagent.tools import datagen
from migagent.tools.datafacts import DataFact, DataFacts
from migagent.tools.introspect.model import Column, SchemaSnapshot, Table

EXACT_BELOW_ROWS = 10_000  # tables smaller than this are counted exactly
EXACT_MAX_BYTES = 64 * 1024 * 1024  # ... unless their heap is larger (stale or no estimate)
QUERY_TIMEOUT_MS = 5_000
BUDGET_MS = 30_000  # after this, the remaining tables get pg_stats facts only
MIN_UNIQUE_ROWS = 10  # fewer rows than this being distinct says nothing about the column
DISTINCT_TOLERANCE = 1e-4  # pg_stats values are float4


@dataclass(frozen=True)
class ColumnCounts:
    """What one aggregate query found about a column."""

    rows: int
    non_null: int
    distinct: int | None = None  # None: not counted (a type without many distinct values)
    max_length: int | None = None  # None: not a string type, or no non-NULL values


@dataclass(frozen=True)
class ColumnStats:
    """One `pg_stats` row: ANALYZE's sample of a column."""

    null_frac: float
    n_distinct: float


def profile_facts(
    conn: psycopg.Connection,
    snapshot: SchemaSnapshot,
    *,
    exact_below_rows: int = EXACT_BELOW_ROWS,
    timeout_ms: int = QUERY_TIMEOUT_MS,
    budget_ms: int = BUDGET_MS,
) -> DataFacts:
    """The facts the target's rows support (`conn`: `tools.target.connect_readonly`)."""
    deadline = time.monotonic() + budget_ms / 1000
    stats = _pg_stats(conn, snapshot, timeout_ms)
    facts: list[DataFact] = []
    for table in profiled_tables(snapshot):
        columns = [c for c in table.columns if _generated_by_datagen(c)]
        if not columns:
            continue
        rows, heap = _size(snapshot, table)
        if rows < exact_below_rows and heap <= EXACT_MAX_BYTES and time.monotonic() < deadline:
            counts = _exact_counts(conn, snapshot, table, columns, timeout_ms)
            if counts is not None:
                facts += exact_facts(snapshot, table, counts)
                continue
        facts += stats_facts(snapshot, table, stats.get(table.qualified_name, {}))
    return DataFacts.of(facts)


def profiled_tables(snapshot: SchemaSnapshot) -> list[Table]:
    """The tables datagen fills: not partitions (rows reach them through the parent)."""
    return [
        t
        for name, t in sorted(snapshot.tables.items())
        if t.partition_of is None
        and t.name not in datagen.SKIP_TABLES
        and name not in snapshot.stand_ins
    ]


def exact_facts(
    snapshot: SchemaSnapshot, table: Table, counts: dict[str, ColumnCounts]
) -> list[DataFact]:
    """not_null, unique and max_length facts from exact counts."""
    out: list[DataFact] = []
    name, source = table.qualified_name, "exact count"
    for column, c in counts.items():
        col = table.column(column)
        if col is None or c.rows == 0:
            continue
        if col.nullable and c.non_null == c.rows:
            out.append(DataFact(kind="not_null", table=name, columns=(column,), source=source))
        if (
            c.distinct is not None
            and c.non_null >= MIN_UNIQUE_ROWS
            and c.distinct == c.non_null
            and not _unique_already(table, column)
        ):
            out.append(DataFact(kind="unique", table=name, columns=(column,), source=source))
        if c.max_length is not None and datagen.is_text(snapshot, col.type):
            out.append(
                DataFact(
                    kind="max_length",
                    table=name,
                    columns=(column,),
                    max_length=max(c.max_length, 1),
                    source=source,
                )
            )
    return out


def stats_facts(
    snapshot: SchemaSnapshot, table: Table, stats: dict[str, ColumnStats]
) -> list[DataFact]:
    """not_null and unique facts from ANALYZE's sample."""
    out: list[DataFact] = []
    name, source = table.qualified_name, "pg_stats"
    for column, s in stats.items():
        col = table.column(column)
        if col is None or not _generated_by_datagen(col):
            continue
        if col.nullable and s.null_frac == 0:
            out.append(DataFact(kind="not_null", table=name, columns=(column,), source=source))
        if (
            abs(s.n_distinct + (1 - s.null_frac)) < DISTINCT_TOLERANCE
            and s.null_frac < 1
            and datagen.distinct_possible(snapshot, col.type)
            and not _unique_already(table, column)
        ):
            out.append(DataFact(kind="unique", table=name, columns=(column,), source=source))
    return out


def _generated_by_datagen(col: Column) -> bool:
    """Columns PostgreSQL fills itself (identity, serial, generated) need no facts."""
    return not (col.generated or col.identity or (col.default and "nextval(" in col.default))


def _unique_already(table: Table, column: str) -> bool:
    """The schema makes the column unique on its own (a fact would add nothing)."""
    return any(
        c.kind in ("primary_key", "unique") and c.columns == [column] for c in table.constraints
    ) or any(i.unique and i.keys == [column] and not i.predicate for i in table.indexes)


def _size(snapshot: SchemaSnapshot, table: Table) -> tuple[int, int]:
    """Estimated rows and heap bytes, a partitioned table's being its partitions'."""
    rows, heap = table.row_estimate, table.table_bytes
    for child in snapshot.tables.values():
        if child.partition_of == table.qualified_name:
            r, h = _size(snapshot, child)
            rows, heap = rows + r, heap + h
    return rows, heap


def _aggregates(snapshot: SchemaSnapshot, col: Column) -> list[tuple[str, sql.Composable]]:
    """The aggregates one column contributes to its table's exact-count query, by what
    each counts: `non_null`, `distinct`, `max_length`."""
    ident = sql.Identifier(col.name)
    out: list[tuple[str, sql.Composable]] = [("non_null", sql.SQL("count({})").format(ident))]
    if datagen.distinct_possible(snapshot, col.type):
        out.append(("distinct", sql.SQL("count(DISTINCT {})").format(ident)))
    if datagen.is_text(snapshot, col.type):
        out.append(("max_length", sql.SQL("max(char_length({}))").format(ident)))
    return out


def _exact_counts(
    conn: psycopg.Connection,
    snapshot: SchemaSnapshot,
    table: Table,
    columns: list[Column],
    timeout_ms: int,
) -> dict[str, ColumnCounts] | None:
    """One aggregate query over the table; None when it fails or times out."""
    per_column = [_aggregates(snapshot, c) for c in columns]
    select = sql.SQL(", ").join(
        [sql.SQL("count(*)"), *(expr for aggs in per_column for _, expr in aggs)]
    )
    query = sql.SQL("SELECT {} FROM {}").format(
        select, sql.Identifier(table.schema_name, table.name)
    )
    row = _query_one(conn, query, timeout_ms)
    if row is None:
        return None
    total, values = int(row[0]), list(row[1:])
    out: dict[str, ColumnCounts] = {}
    for col, aggs in zip(columns, per_column, strict=True):
        got = dict(zip((what for what, _ in aggs), values[: len(aggs)], strict=True))
        values = values[len(aggs) :]
        out[col.name] = ColumnCounts(
            rows=total,
            non_null=int(got["non_null"]),
            distinct=got.get("distinct"),
            max_length=got.get("max_length"),
        )
    return out


def _pg_stats(
    conn: psycopg.Connection, snapshot: SchemaSnapshot, timeout_ms: int
) -> dict[str, dict[str, ColumnStats]]:
    """table -> column -> its pg_stats row (a partitioned table's: the inherited one)."""
    partitioned = {n for n, t in snapshot.tables.items() if t.kind == "partitioned"}
    rows = _query_all(
        conn,
        "SELECT schemaname, tablename, attname, inherited, null_frac, n_distinct"
        " FROM pg_catalog.pg_stats WHERE schemaname = ANY(%s)",
        timeout_ms,
        (sorted({t.schema_name for t in snapshot.tables.values()}),),
    )
    out: dict[str, dict[str, ColumnStats]] = {}
    for schema, table, column, inherited, null_frac, n_distinct in rows:
        name = f"{schema}.{table}"
        if inherited == (name in partitioned) and null_frac is not None:
            out.setdefault(name, {})[column] = ColumnStats(float(null_frac), float(n_distinct or 0))
    return out


def _query_one(
    conn: psycopg.Connection, query: LiteralString | sql.Composed, timeout_ms: int
) -> tuple[Any, ...] | None:
    rows = _query_all(conn, query, timeout_ms)
    return rows[0] if rows else None


def _query_all(
    conn: psycopg.Connection,
    query: LiteralString | sql.Composed,
    timeout_ms: int,
    params: tuple[Any, ...] = (),
) -> list[tuple[Any, ...]]:
    """Run one read-only query under a statement timeout; [] when it fails."""
    try:
        with conn.transaction():
            conn.execute(
                "SELECT pg_catalog.set_config('statement_timeout', %s, true)",
                (str(int(timeout_ms)),),
            )
            return conn.execute(query, params or None).fetchall()
    except psycopg.Error:
        return []
