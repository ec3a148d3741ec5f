"""Plausible rows for every table: types, nullability, uniqueness, checks, foreign keys.

One `INSERT ... SELECT ... FROM generate_series(1, N)` per table, so it scales
to the 10k-100k rows the time estimator asks for:

- values come from the row number `g` and the column's type (enums cycle
  through their labels, arrays hold one element, domains use their base type,
  jsonb gets an object, tsvector a document, ranges a span, ...) and a little
  of its name (`email`, `url`, `name`, ...); nullable columns are NULL in one
  row in ten;
- columns in a primary key, unique constraint or unique index get values
  unique in `g`; `ON CONFLICT DO NOTHING` drops whatever still collides;
- foreign keys pick existing parent rows (parents are filled first, in
  topological order); a foreign key that cannot be satisfied (a cycle, or an
  empty parent) gets NULL when nullable and skips the table otherwise;
- CHECK constraints (and domain checks) shape the values where they are
  simple (`IN (...)` lists, bounds, `length(...) <= n`, `a < b`) and filter
  the generated rows (`WHERE (check) IS NOT FALSE`) always, so every row
  inserted is valid;
- identity, serial and generated columns are left to PostgreSQL;
- facts about the target's rows (`migagent.tools.datafacts`) are constraints
  too (`apply_facts`): a copy of the snapshot gets them as NOT NULL, unique
  indexes, foreign keys and CHECKs, so the machinery above honours them; a
  `castable` fact makes the column's values those of the new type, and rows
  duplicating a unique fact's key are deleted (no real index drops them).

Each table is inserted under a savepoint: a table that cannot be filled is
retried with only its required columns, then skipped with PostgreSQL's reason.
"""

from __future__ import annotations

import re
import time
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import LiteralString

import psycopg
from psycopg import sql
from pydantic import BaseModel, Field

from migagent.tools.datafacts import DataFact, DataFacts
from migagent.tools.introspect.model import Column, Constraint, Index, SchemaSnapshot, Table
from migagent.tools.introspect.sqltext import balanced, check_expression

SKIP_TABLES = frozenset({"alembic_version"})
NULL_EVERY = 10  # nullable columns are NULL in one row in this many
FACT_PREFIX = "migagent_fact_"  # names of the constraints and indexes facts add to the model


class DataGenResult(BaseModel):
    rows: dict[str, int] = Field(default_factory=dict)  # table -> rows inserted
    existing: dict[str, bool] = Field(default_factory=dict)  # tables that already had rows
    skipped: dict[str, str] = Field(default_factory=dict)  # table -> why it got no rows
    facts: list[str] = Field(default_factory=list)  # DataFact.describe() of each fact applied
    duration_ms: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.rows.values())


@dataclass
class TableInsert:
    """The generated INSERT for one table (inspectable, reusable by the estimator)."""

    table: str
    table_ident: str
    rows: int
    columns: list[tuple[str, str, bool]]  # (name, "expr AS name", required)
    ctes: list[str] = field(default_factory=list)
    joins: list[str] = field(default_factory=list)
    filters: list[tuple[str, frozenset[str]]] = field(default_factory=list)
    #: statements run after the insert: DELETEs of rows duplicating a unique fact's key
    cleanup: list[str] = field(default_factory=list)

    def sql(self, columns: list[str] | None = None) -> str:
        """The statement, with all columns or only `columns` (others get defaults/NULL)."""
        chosen = [c for c in self.columns if columns is None or c[0] in columns]
        return _assemble(
            self.table_ident,
            self.rows,
            self.ctes,
            self.joins,
            [c[0] for c in chosen],
            [c[1] for c in chosen],
            self.filters,
        )

    @property
    def statement(self) -> str:
        return self.sql()

    @property
    def optional(self) -> list[str]:
        return [name for name, _, required in self.columns if not required]

    def probe(self, name: str) -> str:
        """A query that evaluates one column's expression (to find a failing one)."""
        expr = next(e for n, e, _ in self.columns if n == name)
        return f"SELECT {expr} FROM generate_series(1::bigint, 3) AS g"


def generate(
    conn: psycopg.Connection,
    snap: SchemaSnapshot,
    *,
    rows: int = 100,
    tables: list[str] | None = None,
    only_empty: bool = True,
    facts: DataFacts | None = None,
) -> DataGenResult:
    """Insert about `rows` rows into every (empty) table of `snap`, and commit.

    `tables` limits generation to those tables (parents must already have rows
    for their foreign keys to be filled). Tables that already hold rows are
    left alone when `only_empty` (their rows still serve as FK parents).
    `facts` are properties of the target's rows that the generated rows keep
    too (`apply_facts`); `result.facts` says which ones applied.
    """
    t0 = time.perf_counter()
    result = DataGenResult()
    if rows <= 0:
        return result
    applied = applicable_facts(snap, facts)
    result.facts = [f.describe() for f in applied]
    casts = castable_columns(snap, applied)
    if applied:
        snap = apply_facts(snap, DataFacts(facts=tuple(applied)))
    wanted = [
        t
        for name, t in snap.tables.items()
        if (tables is None or name in tables)
        and t.name not in SKIP_TABLES
        and name not in snap.stand_ins
        and t.partition_of is None  # rows reach partitions through their parent
    ]
    filled = _tables_with_rows(conn, [t.qualified_name for t in snap.tables.values()])
    if only_empty:
        for t in wanted:
            if t.qualified_name in filled:
                result.existing[t.qualified_name] = True
        wanted = [t for t in wanted if t.qualified_name not in filled]
    order = topological(wanted)
    ready = set(filled)  # tables that have rows to point foreign keys at
    was_autocommit = conn.autocommit
    conn.autocommit = False
    try:
        for table in order:
            insert = plan_insert(
                snap, table, rows, parents_with_rows=ready, casts=casts.get(table.qualified_name)
            )
            if isinstance(insert, str):
                result.skipped[table.qualified_name] = insert
                continue
            count, error = _try(conn, insert.statement)
            if error is not None and insert.optional:
                # drop the optional columns whose values PostgreSQL rejects, then retry
                bad = {c for c in insert.optional if _try(conn, insert.probe(c))[1] is not None}
                keep = [c[0] for c in insert.columns if c[0] not in bad]
                count, error = _try(conn, insert.sql(keep))
                if error is not None:
                    count, error = _try(conn, insert.sql([c[0] for c in insert.columns if c[2]]))
            if error is not None:
                result.skipped[table.qualified_name] = error
                continue
            for statement in insert.cleanup:
                count -= _try(conn, statement)[0]
            result.rows[table.qualified_name] = count
            if count:
                ready.add(table.qualified_name)
                for link in self_links(table):
                    _try(conn, link)
            else:
                result.skipped[table.qualified_name] = "every generated row was rejected"
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.autocommit = was_autocommit
    result.duration_ms = round((time.perf_counter() - t0) * 1000, 3)
    return result


def _column(table: Table, name: str) -> Column:
    """A column the CHECK reading above already found on `table`."""
    col = table.column(name)
    if col is None:
        raise KeyError(f"{table.qualified_name} has no column {name}")
    return col


def _try(conn: psycopg.Connection, statement: str) -> tuple[int, str | None]:
    conn.execute("SAVEPOINT migagent_datagen")
    try:
        # built here from quoted identifiers and literals; psycopg asks for LiteralString
        cur = conn.execute(typing.cast(LiteralString, statement))
    except psycopg.Error as exc:
        conn.execute("ROLLBACK TO SAVEPOINT migagent_datagen")
        diag = getattr(exc, "diag", None)
        message = (diag.message_primary if diag else None) or str(exc).splitlines()[0]
        return 0, message
    conn.execute("RELEASE SAVEPOINT migagent_datagen")
    return max(cur.rowcount, 0), None


def _tables_with_rows(conn: psycopg.Connection, names: list[str]) -> set[str]:
    if not names:
        return set()
    parts = [
        sql.SQL("SELECT {i} WHERE EXISTS (SELECT 1 FROM {t})").format(
            i=sql.Literal(i), t=sql.Identifier(*name.split(".", 1))
        )
        for i, name in enumerate(names)
    ]
    found = conn.execute(sql.SQL(" UNION ALL ").join(parts)).fetchall()
    if not conn.autocommit:
        conn.commit()
    return {names[r[0]] for r in found}


def topological(tables: list[Table]) -> list[Table]:
    """Parents before children (foreign keys); cycles broken in name order."""
    by_name = {t.qualified_name: t for t in tables}
    deps = {
        name: {
            c.ref_table
            for c in t.constraints
            if c.kind == "foreign_key" and c.ref_table in by_name and c.ref_table != name
        }
        for name, t in by_name.items()
    }
    out: list[Table] = []
    done: set[str] = set()
    remaining = sorted(by_name)
    while remaining:
        progress = [n for n in remaining if deps[n] <= done]
        if not progress:  # a cycle: take the table with the fewest unmet parents
            progress = [min(remaining, key=lambda n: (len(deps[n] - done), n))]
        for n in progress:
            out.append(by_name[n])
            done.add(n)
        remaining = [n for n in remaining if n not in done]
    return out


def self_links(table: Table) -> list[str]:
    """UPDATEs pointing nullable self-referencing foreign keys at the previous row.

    Every tenth row stays a root, so the trees are shallow and never cyclic.
    """
    out = []
    ident = sql.Identifier(table.schema_name, table.name).as_string()
    for con in table.constraints:
        if con.kind != "foreign_key" or con.ref_table != table.qualified_name:
            continue
        if not all((table.column(c) or Column(name=c, type="")).nullable for c in con.columns):
            continue
        refs = ", ".join(f"{_ident(rc)} AS c{j}" for j, rc in enumerate(con.ref_columns))
        sets = ", ".join(f"{_ident(c)} = p.c{j}" for j, c in enumerate(con.columns))
        out.append(
            f"WITH n AS (SELECT ctid AS rid, row_number() OVER (ORDER BY ctid) AS rn FROM {ident}),"
            f" p AS (SELECT {refs}, row_number() OVER (ORDER BY ctid) AS rn FROM {ident})"
            f" UPDATE {ident} AS t SET {sets} FROM n JOIN p ON p.rn = n.rn - 1"
            f" WHERE t.ctid = n.rid AND n.rn % {NULL_EVERY} <> 1"
        )
    return out


# --------------------------------------------------------------------- facts
def applicable_facts(snap: SchemaSnapshot, facts: DataFacts | None) -> list[DataFact]:
    """The facts about tables and columns `snap` has, that datagen can honour.

    A fact about a column the revision adds, or a NOT NULL on a column no
    generator fills, has nothing to shape here (the latter would skip the table).
    """
    return [f for f in (facts.facts if facts else ()) if _applies(snap, f)]


def apply_facts(snap: SchemaSnapshot, facts: DataFacts | None) -> SchemaSnapshot:
    """A copy of `snap` in which every applicable fact is one more constraint.

    not_null -> the column is NOT NULL; unique -> a unique index; references ->
    a foreign key; check and max_length -> a CHECK. The copy is only a recipe
    for datagen: the sandbox's schema never changes. `castable` has no schema
    form: `castable_columns` carries it to `plan_insert`.
    """
    out = snap.model_copy(deep=True)
    for i, fact in enumerate(applicable_facts(snap, facts)):
        table = out.table(fact.table)
        assert table is not None  # applicable facts name existing tables
        _apply(out, table, fact, f"{FACT_PREFIX}{i}")
    return out


def castable_columns(snap: SchemaSnapshot, facts: list[DataFact]) -> dict[str, dict[str, DataFact]]:
    """table -> column -> its `castable` fact (the type whose values it gets)."""
    out: dict[str, dict[str, DataFact]] = {}
    for fact in facts:
        table = snap.table(fact.table)
        if fact.kind == "castable" and table is not None:
            out.setdefault(table.qualified_name, {})[fact.columns[0]] = fact
    return out


def _applies(snap: SchemaSnapshot, fact: DataFact) -> bool:
    table = snap.table(fact.table)
    if table is None or table.partition_of is not None:
        return False
    cols = [table.column(c) for c in fact.columns]
    if any(c is None for c in cols):
        return False
    if fact.kind == "not_null":
        return bool(cols) and all(_fillable(snap, table, c) for c in cols if c is not None)
    if fact.kind == "unique":
        return bool(fact.columns or fact.expressions)
    if fact.kind == "references":
        parent = snap.table(fact.ref_table or "")
        # a NOT NULL self-reference has no first row to point at: the table would get none
        self_ref = parent is table and not all(c.nullable for c in cols if c is not None)
        return (
            parent is not None
            and not self_ref
            and 0 < len(fact.columns) == len(fact.ref_columns)
            and all(parent.column(c) is not None for c in fact.ref_columns)
        )
    if fact.kind == "check":
        return bool(fact.expression)
    if fact.kind == "castable":
        target = cast_type(snap, fact.type_name or "")
        return len(cols) == 1 and _value(_Ctx(snap, table), "v", target, unique=False) is not None
    if fact.kind == "max_length":
        col = cols[0] if len(cols) == 1 else None
        return col is not None and (fact.max_length or 0) >= 1 and is_text(snap, col.type)
    return False


def _fillable(snap: SchemaSnapshot, table: Table, col: Column) -> bool:
    """PostgreSQL or a generator gives the column a value in every row."""
    fk_cols = {c for con in table.constraints if con.kind == "foreign_key" for c in con.columns}
    return (
        col.default is not None
        or col.identity is not None
        or col.generated is not None
        or col.name in fk_cols
        or _value(_Ctx(snap, table), col.name, col.type, unique=False) is not None
    )


def _apply(snap: SchemaSnapshot, table: Table, fact: DataFact, name: str) -> None:
    """Add `fact` to `table` (a table of the copy) as the constraint it amounts to."""
    cols = ", ".join(_ident(c) for c in fact.columns)
    if fact.kind == "not_null":
        for c in fact.columns:
            column = table.column(c)
            if column is not None:
                column.nullable = False
    elif fact.kind == "unique":
        keys = list(fact.columns or fact.expressions)
        table.indexes.append(
            Index(
                name=name,
                table=table.qualified_name,
                method="btree",
                unique=True,
                keys=keys,
                predicate=fact.predicate,
                nulls_not_distinct=fact.nulls_not_distinct,
                definition=fact.describe(),
            )
        )
    elif fact.kind == "references":
        parent = snap.table(fact.ref_table or "")
        assert parent is not None
        refs = ", ".join(_ident(c) for c in fact.ref_columns)
        table.constraints.append(
            Constraint(
                name=name,
                kind="foreign_key",
                definition=f"FOREIGN KEY ({cols}) REFERENCES {parent.qualified_name}({refs})",
                columns=list(fact.columns),
                ref_table=parent.qualified_name,
                ref_columns=list(fact.ref_columns),
            )
        )
    elif fact.kind in ("check", "max_length"):
        expr = (
            fact.expression
            if fact.kind == "check"
            else f"char_length({_ident(fact.columns[0])}) <= {fact.max_length}"
        )
        table.constraints.append(
            Constraint(
                name=name,
                kind="check",
                definition=f"CHECK (({expr}))",
                columns=referenced(table, expr or ""),
            )
        )


_IDENT_TOKEN = re.compile(r'"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_$]*)')


def referenced(table: Table, expr: str) -> list[str]:
    """The table's columns an SQL expression mentions (outside string literals)."""
    text = re.sub(r"'(?:[^']|'')*'", "''", expr)
    out: list[str] = []
    for quoted, bare in _IDENT_TOKEN.findall(text):
        name = quoted.replace('""', '"') if quoted else bare.lower()
        if table.column(name) is not None and name not in out:
            out.append(name)
    return out


def dedupe(table: Table, idx: Index) -> str:
    """A DELETE of the rows repeating an earlier row's key of `idx`.

    For a fact's unique index: it is not in the database, so ON CONFLICT does
    not drop the duplicates. NULL keys do not collide unless NULLS NOT DISTINCT.
    """
    ident = sql.Identifier(table.schema_name, table.name).as_string()
    keys = [_ident(k) if table.column(k) is not None else f"({k})" for k in idx.keys]
    where = [] if idx.nulls_not_distinct else [f"{k} IS NOT NULL" for k in keys]
    if idx.predicate:
        where.append(f"({idx.predicate})")
    cond = f" WHERE {' AND '.join(where)}" if where else ""
    return (
        f"DELETE FROM {ident} WHERE (tableoid, ctid) IN (SELECT tableoid, ctid FROM"
        f" (SELECT tableoid, ctid, row_number() OVER (PARTITION BY {', '.join(keys)}"
        f" ORDER BY ctid) AS rn FROM {ident}{cond}) AS d WHERE d.rn > 1)"
    )


_TYPE_ALIASES = {
    "int": "integer",
    "int4": "integer",
    "int2": "smallint",
    "int8": "bigint",
    "bool": "boolean",
    "float4": "real",
    "float8": "double precision",
    "float": "double precision",
    "decimal": "numeric",
    "timestamptz": "timestamp with time zone",
    "timestamp": "timestamp without time zone",
    "timetz": "time with time zone",
    "varchar": "character varying",
    "char": "character",
    "string": "text",
}


def cast_type(snap: SchemaSnapshot, type_name: str) -> str:
    """`type_name` as `_value` knows types: an enum or domain of `snap` by its key,
    a built-in type by its `format_type` spelling (int4 -> integer, varchar(5) ->
    character varying(5))."""
    text = " ".join(type_name.split())
    named = {**snap.enums, **snap.domains}
    for key in (text, f"public.{text}", text.lower(), f"public.{text.lower()}"):
        if key in named:
            return key
    m = re.match(r"^(.+?)\s*(\(.*\))?$", text.lower())
    if not m:
        return text
    return _TYPE_ALIASES.get(m.group(1), m.group(1)) + re.sub(r"\s+", "", m.group(2) or "")


def _column_value(ctx: _Ctx, name: str, type_name: str, *, unique: bool) -> str | None:
    """A value for column `name`: of its own type, or of its `castable` fact's type."""
    fact = ctx.casts.get(name)
    if fact is None:
        return _value(ctx, name, type_name, unique=unique)
    target = cast_type(ctx.snap, fact.type_name or "")
    value = _value(ctx, name, target, unique=unique)
    return None if value is None else f"(({value})::{_base_type(ctx.snap, target)})::text"


def _pick(values: list[str]) -> str:
    """One of the SQL literals `values`, cycling with the row number."""
    return f"(ARRAY[{', '.join(values)}])[1 + (g % {len(values)})]"


def _literal_text(literal: str) -> str:
    """The text of an SQL literal as `_LITERAL` found it ('it''s' -> it's, 42 -> 42)."""
    return literal[1:-1].replace("''", "'") if literal.startswith("'") else literal


def _fit(base: str, n: int, *, unique: bool) -> str:
    """`base` cut to `n` characters; a unique column this short gets the row
    number's digits instead (cutting `sku-123` would repeat values)."""
    if unique and n < 8:
        return f"right(lpad(g::text, {n}, '0'), {n})"
    return f"left(({base})::text, {n})"


_TEXT_TYPE = re.compile(
    r"^(text|character varying|varchar|character|char|bpchar|citext|\w+\.citext)(\(\d+\))?$"
)


def is_text(snap: SchemaSnapshot, type_name: str) -> bool:
    """A string type (domains resolved): `char_length` and `left` apply to its values."""
    return bool(_TEXT_TYPE.match(_base_type(snap, type_name).lower()))


_DISTINCT_TYPE = re.compile(
    r"^(smallint|integer|bigint|numeric.*|real|double precision|uuid|date|timestamp.*"
    r"|bytea|inet|cidr|macaddr8?)$"
)


def distinct_possible(snap: SchemaSnapshot, type_name: str) -> bool:
    """Whether the generators give a column of this type many distinct, comparable
    values (not booleans, enums or json): a uniqueness fact then costs no rows."""
    return is_text(snap, type_name) or bool(
        _DISTINCT_TYPE.match(_base_type(snap, type_name).lower())
    )


# ------------------------------------------------------------------ planning
@dataclass
class _Ctx:
    snap: SchemaSnapshot
    table: Table
    casts: Mapping[str, DataFact] = field(default_factory=dict)  # column -> its castable fact
    unique: set[str] = field(default_factory=set)
    #: unique columns that still take NULLs (NULLs never collide, unless NULLS NOT DISTINCT)
    unique_nullable: set[str] = field(default_factory=set)
    checks: list[str] = field(default_factory=list)  # bare boolean expressions
    filters: list[tuple[str, frozenset[str]]] = field(default_factory=list)  # (expr, columns)


def plan_insert(
    snap: SchemaSnapshot,
    table: Table,
    rows: int,
    *,
    parents_with_rows: set[str] | frozenset[str] = frozenset(),
    casts: Mapping[str, DataFact] | None = None,
) -> TableInsert | str:
    """The INSERT for one table, or the reason there can be none.

    `casts`: column -> `castable` fact; the column gets values of the fact's type.
    """
    ctx = _Ctx(snap, table, casts or {})
    for con in table.constraints:
        if con.kind in ("primary_key", "unique"):
            ctx.unique.update(con.columns)
            if con.kind == "unique" and "NULLS NOT DISTINCT" not in con.definition.upper():
                ctx.unique_nullable.update(con.columns)
        elif con.kind == "check":
            ctx.checks.append(check_expression(con.definition))
            ctx.filters.append((ctx.checks[-1], frozenset(con.columns)))
    for idx in table.indexes:
        if idx.unique:
            for k in idx.keys:  # a column, or the columns an expression (lower(email)) reads
                cols = [k] if table.column(k) is not None else referenced(table, k)
                ctx.unique.update(cols)
                if not idx.nulls_not_distinct and not idx.primary:
                    ctx.unique_nullable.update(cols)

    # foreign keys: CTEs over parent rows, joined by row number
    ctes: list[str] = []
    joins: list[str] = []
    fk_value: dict[str, str] = {}
    fk_nullable: dict[str, bool] = {}
    unmet: list[str] = []
    multi_fk_unique = _multi_fk_unique(table)
    stride: list[str] = []
    for i, con in enumerate(c for c in table.constraints if c.kind == "foreign_key"):
        nullable = all((table.column(c) or Column(name=c, type="")).nullable for c in con.columns)
        ref_table = con.ref_table  # a foreign key always names its parent
        if (
            ref_table is None
            or ref_table not in parents_with_rows
            or ref_table == table.qualified_name
        ):
            if not nullable:
                unmet.append(f"{con.ref_table} has no rows for foreign key {con.name}")
            for c in con.columns:
                fk_value.setdefault(c, "NULL")
            continue
        ref_schema, ref_name = ref_table.split(".", 1)
        ref = sql.Identifier(ref_schema, ref_name).as_string()
        cols = ", ".join(f"{_ident(rc)} AS c{j}" for j, rc in enumerate(con.ref_columns))
        notnull = " AND ".join(f"{_ident(rc)} IS NOT NULL" for rc in con.ref_columns)
        ctes.append(
            f"fk{i} AS MATERIALIZED (SELECT {cols}, row_number() OVER () AS rn "
            f"FROM {ref} WHERE {notnull})"
        )
        ctes.append(f"fk{i}n AS (SELECT nullif(count(*), 0) AS n FROM fk{i})")
        joins.append(f"CROSS JOIN fk{i}n")
        if set(con.columns) & multi_fk_unique:
            div = " * ".join(stride) if stride else "1"
            pick = f"1 + (((g - 1) / ({div})) % fk{i}n.n)"
            stride.append(f"fk{i}n.n")
        else:
            pick = f"1 + ((g - 1) % fk{i}n.n)"
        joins.append(f"LEFT JOIN fk{i} ON fk{i}.rn = {pick}")
        for j, c in enumerate(con.columns):
            fk_value[c] = f"fk{i}.c{j}"
            fk_nullable[c] = nullable and not (set(con.columns) & ctx.unique)
    if unmet:
        return "; ".join(unmet)

    columns: list[tuple[str, str, bool]] = []
    shaped = _shape_from_checks(ctx)
    for col in table.columns:
        if col.generated or col.identity or (col.default and "nextval(" in col.default):
            continue
        if col.name in fk_value:
            expr = fk_value[col.name]
            if expr == "NULL":
                expr = f"NULL::{_base_type(ctx.snap, col.type)}"
            elif fk_nullable.get(col.name):
                expr = f"CASE WHEN g % {NULL_EVERY} = 3 THEN NULL ELSE {expr} END"
        else:
            expr = shaped.get(col.name) or _column_value(
                ctx, col.name, col.type, unique=col.name in ctx.unique
            )
            if expr is None:
                if col.nullable or col.default is not None:
                    continue  # leave it NULL / to its default
                return f"no generator for {col.name} ({col.type}), which is NOT NULL"
            expr = f"({expr})::{_base_type(ctx.snap, col.type)}"
            if col.nullable and (col.name not in ctx.unique or col.name in ctx.unique_nullable):
                expr = f"CASE WHEN g % {NULL_EVERY} = 0 THEN NULL ELSE {expr} END"
        required = not col.nullable or col.name in fk_value
        columns.append((col.name, f"{expr} AS {_ident(col.name)}", required))
        ctx.filters.extend((f, frozenset({col.name})) for f in _domain_filters(ctx.snap, col))
    return TableInsert(
        table=table.qualified_name,
        table_ident=sql.Identifier(table.schema_name, table.name).as_string(),
        rows=rows,
        columns=columns,
        ctes=ctes,
        joins=joins,
        filters=ctx.filters,
        cleanup=[dedupe(table, idx) for idx in table.indexes if idx.name.startswith(FACT_PREFIX)],
    )


def _assemble(table_ident, rows, ctes, joins, targets, exprs, filters) -> str:
    with_ = f"WITH {', '.join(ctes)} " if ctes else ""
    present = set(targets)
    where = " AND ".join(f"({f}) IS NOT FALSE" for f, cols in filters if cols <= present)
    if not targets:
        return (
            f"{with_}INSERT INTO {table_ident} SELECT FROM generate_series(1::bigint, {int(rows)}) AS g"
            " ON CONFLICT DO NOTHING"
        )
    cols = ", ".join(_ident(t) for t in targets)
    inner = (
        f"SELECT {', '.join(exprs)} FROM generate_series(1::bigint, {int(rows)}) AS g "
        + " ".join(joins)
    )
    return (
        f"{with_}INSERT INTO {table_ident} ({cols}) SELECT {cols} FROM ({inner}) AS s"
        + (f" WHERE {where}" if where else "")
        + " ON CONFLICT DO NOTHING"
    )


def _multi_fk_unique(table: Table) -> set[str]:
    """Columns of unique keys made only of foreign-key columns (join tables)."""
    fk_cols = {c for con in table.constraints if con.kind == "foreign_key" for c in con.columns}
    out: set[str] = set()
    for con in table.constraints:
        if con.kind in ("primary_key", "unique") and con.columns and set(con.columns) <= fk_cols:
            out.update(con.columns)
    return out


def _ident(name: str) -> str:
    return sql.Identifier(name).as_string()


def _domain_filters(snap: SchemaSnapshot, col: Column) -> list[str]:
    out: list[str] = []
    seen = set()
    type_name = col.type
    while type_name in snap.domains and type_name not in seen:
        seen.add(type_name)
        dom = snap.domains[type_name]
        for check in dom.checks:
            expr = check_expression(check)
            out.append(re.sub(r"\bVALUE\b", _ident(col.name), expr))
        type_name = dom.base_type
    return out


def _base_type(snap: SchemaSnapshot, type_name: str) -> str:
    """A domain's (ultimate) base type; other types as they are."""
    seen = set()
    while type_name in snap.domains and type_name not in seen:
        seen.add(type_name)
        type_name = snap.domains[type_name].base_type
    return type_name


# -------------------------------------------------------- shaping by checks
_IN_LIST = re.compile(
    r"^\(*\s*\(?([\w\"]+)\)?(?:::[\w ]+)?\s+=\s+ANY\s+\(+ARRAY\[(.*)\]\)*(?:::[\w \[\]]+)?\)*$",
    re.S,
)
# `c IN (...)` as written (a fact's expression is not deparsed into `= ANY (ARRAY[...])`)
_IN_PAREN = re.compile(r"^\(*\s*\(?([\w\"]+)\)?(?:::[\w ]+)?\s+IN\s+\((.*)\)\)*$", re.S | re.I)
_CMP = re.compile(r"\(*\s*([\w\"]+)\s*(>=|>|<=|<)\s*\(?'?(-?[\d.]+)'?\)?(?:::[\w ]+)?\s*\)*$")
_LEN = re.compile(r"\(*(?:char_length|length)\(([\w\"]+)\)\s*(<=|<)\s*(\d+)\)*$")
_COLS_CMP = re.compile(r"^\(*([\w\"]+)\s*(<=|<|>=|>)\s*([\w\"]+)\)*$")
_LITERAL = re.compile(r"'((?:[^']|'')*)'(?:::[\w ]+)?|(-?\d+(?:\.\d+)?)")


def _split_and(expr: str) -> list[str]:
    """Top-level AND operands of a deparsed boolean expression."""
    text = expr.strip()
    while text.startswith("(") and text.endswith(")") and balanced(text[1:-1]):
        text = text[1:-1].strip()
    parts, depth, start, i = [], 0, 0, 0
    in_str = False
    while i < len(text):
        ch = text[i]
        if ch == "'":
            in_str = not in_str
        elif not in_str:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            elif depth == 0 and text[i : i + 5].upper() == " AND ":
                parts.append(text[start:i])
                start = i + 5
                i += 5
                continue
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _unq(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


def _shape_from_checks(ctx: _Ctx) -> dict[str, str]:
    """Value expressions for columns that simple CHECKs constrain."""
    lows: dict[str, tuple[float, bool]] = {}
    highs: dict[str, tuple[float, bool]] = {}
    out: dict[str, str] = {}
    maxlen: dict[str, int] = {}
    listed: dict[str, list[str]] = {}  # column -> the literals of its IN list
    pairs: list[tuple[str, str, str]] = []
    exprs = list(ctx.checks)
    for col in ctx.table.columns:
        exprs.extend(f.replace(_ident(col.name), col.name) for f in _domain_filters(ctx.snap, col))
    for check in exprs:
        for part in _split_and(check):
            m = _IN_LIST.match(part) or _IN_PAREN.match(part)
            if m and (col := ctx.table.column(_unq(m.group(1)))):
                values = [
                    "'" + s + "'" if s is not None and num == "" else num
                    for s, num in _LITERAL.findall(m.group(2))
                ]
                if values:
                    out[col.name] = _pick(values)
                    listed[col.name] = values
                continue
            m = _LEN.match(part)
            if m and ctx.table.column(_unq(m.group(1))):
                n = int(m.group(3)) - (1 if m.group(2) == "<" else 0)
                maxlen[_unq(m.group(1))] = n
                continue
            m = _CMP.match(part)
            if m and ctx.table.column(_unq(m.group(1))):
                name, op, value = _unq(m.group(1)), m.group(2), float(m.group(3))
                if op.startswith(">"):
                    lows[name] = (value, op == ">")
                else:
                    highs[name] = (value, op == "<")
                continue
            m = _COLS_CMP.match(part)
            if m and ctx.table.column(_unq(m.group(1))) and ctx.table.column(_unq(m.group(3))):
                pairs.append((_unq(m.group(1)), m.group(2), _unq(m.group(3))))
    for name in set(lows) | set(highs):
        col = _column(ctx.table, name)
        family = _family(_base_type(ctx.snap, col.type))
        if family not in ("int", "numeric", "float"):
            continue
        lo, lo_strict = lows.get(name, (None, False))
        hi, hi_strict = highs.get(name, (None, False))
        is_int = family == "int"
        if lo is not None:
            lo = int(lo) + 1 if lo_strict and is_int else lo + (0.01 if lo_strict else 0)
        if hi is not None:
            hi = int(hi) - 1 if hi_strict and is_int else hi - (0.01 if hi_strict else 0)
        if lo is None:
            lo = min(0, hi - 100) if hi is not None else 0
        if hi is None:
            hi = lo + (1_000_000 if name in ctx.unique else 100)
        span = max(int(hi - lo), 0)
        out[name] = f"{lo} + (g % {span + 1})" if span else f"{lo}"
    for name, n in maxlen.items():
        col = _column(ctx.table, name)
        base = out.get(name) or _column_value(ctx, name, col.type, unique=name in ctx.unique)
        fitting = [v for v in listed.get(name, []) if len(_literal_text(v)) <= n]
        if fitting:  # the listed values that fit, rather than cut ones the list lacks
            out[name] = _pick(fitting)
        elif base is not None and n >= 1:
            out[name] = _fit(base, n, unique=name in ctx.unique and name not in ctx.casts)
    for a, op, b in pairs:
        ca, cb = _column(ctx.table, a), _column(ctx.table, b)
        fam = _family(_base_type(ctx.snap, ca.type))
        if fam != _family(_base_type(ctx.snap, cb.type)) or fam not in _STEP:
            continue
        # make the larger side follow the smaller one
        small, large = (a, b) if op.startswith("<") else (b, a)
        base = out.get(small) or _column_value(
            ctx, small, _column(ctx.table, small).type, unique=small in ctx.unique
        )
        if base is None or large in out:
            continue
        out.setdefault(small, base)
        cast = _base_type(ctx.snap, _column(ctx.table, small).type)
        out[large] = f"({base})::{cast} + {_STEP[fam]}"
    return out


_STEP = {
    "int": "(1 + g % 10)",
    "numeric": "(1 + g % 10)",
    "float": "(1 + g % 10)",
    "date": "(1 + g % 10)::int",
    "timestamp": "(1 + g % 10) * interval '1 hour'",
}


# ---------------------------------------------------------------- values
def _family(type_name: str) -> str:
    t = type_name.lower()
    if t in ("smallint", "integer", "bigint"):
        return "int"
    if t.startswith("numeric") or t == "money":
        return "numeric"
    if t in ("real", "double precision"):
        return "float"
    if t == "date":
        return "date"
    if t.startswith("timestamp"):
        return "timestamp"
    return "other"


_INT_MAX = {"smallint": 32_000, "integer": 2_000_000_000, "bigint": 9_000_000_000_000_000_000}


def _value(ctx: _Ctx, name: str, type_name: str, *, unique: bool, depth: int = 0) -> str | None:
    """An SQL expression in `g` for a value of `type_name` (None when unknown)."""
    snap = ctx.snap
    if depth > 3:
        return None
    t = type_name.strip()
    if t.endswith("[]"):
        elem = _value(ctx, name, t[:-2], unique=False, depth=depth + 1)
        return None if elem is None else f"ARRAY[({elem})::{_base_type(snap, t[:-2])}]"
    if t in snap.domains:
        return _value(ctx, name, _base_type(snap, t), unique=unique, depth=depth + 1)
    if t in snap.enums:
        labels = snap.enums[t].labels
        if not labels:
            return None
        arr = ", ".join(sql.Literal(lb).as_string() for lb in labels)
        return f"(ARRAY[{arr}])[1 + (g % {len(labels)})]::{t}"
    if t in snap.composite_types:
        parts = []
        for attr, atype in snap.composite_types[t].attributes:
            v = _value(ctx, attr, atype, unique=False, depth=depth + 1)
            parts.append("NULL" if v is None else f"({v})::{_base_type(snap, atype)}")
        return f"ROW({', '.join(parts)})::{t}"
    low = t.lower()
    n = name.lower()
    m = re.match(
        r"^(character varying|varchar|character|char|bpchar|bit varying|bit)\((\d+)\)$", low
    )
    length = int(m.group(2)) if m else None
    base = m.group(1) if m else low
    if base in _INT_MAX:
        if unique:
            return f"g % {_INT_MAX[base]}" if base == "smallint" else "g"
        return f"(g * 7 + 3) % {100 if base == 'smallint' else 1000}"
    if base.startswith("numeric") or base == "decimal":
        pm = re.match(r"numeric\((\d+),(\d+)\)", base)
        if pm:
            p, s = int(pm.group(1)), int(pm.group(2))
            whole = min(10 ** (p - s), 100_000)
            frac = f" + (g % 100) / 100.0 * {1 - 10**-s:.{s}f}" if s else ""
            return (
                f"round(((g * 37) % {whole}){frac}, {s})"
                if whole > 1
                else f"round((g % 100) / 100.0 * {1 - 10**-s:.{s}f}, {s})"
            )
        return "g * 1.25" if unique else "((g * 37) % 10000) / 4.0"
    if base in ("real", "double precision"):
        return "g * 1.5"
    if base == "money":
        return "((g % 1000) + 0.99)::numeric"
    if base == "boolean":
        return "g % 2 = 0"
    if base in (
        "text",
        "character varying",
        "varchar",
        "character",
        "char",
        "bpchar",
        "citext",
    ) or low.endswith(".citext"):
        text = _text_for(n, unique=unique)
        if length is not None:
            if length < 4:
                return (
                    f"left(lpad(to_hex(g), {length}, '0'), {length})"
                    if unique
                    else "chr(65 + (g % 26)::int)"
                )
            return f"left({text}, {length})" if not unique else f"right({text}, {length})"
        return text
    if base == '"char"':
        return "chr(65 + (g % 26)::int)"
    if base in ("bit", "bit varying"):
        width = length or 8
        return f"(g % {2 ** min(width, 30)})::int::bit({width})"
    if base == "uuid":
        return f"md5({sql.Literal(ctx.table.qualified_name + '.' + name).as_string()} || g)::uuid"
    if base in ("json", "jsonb"):
        return f"json_build_object('id', g, 'name', {sql.Literal(name).as_string()} || ' ' || g)"
    if base == "bytea":
        return "decode(md5(g::text), 'hex')"
    if base == "date":
        return "date '2024-01-01' + (g % 3650)::int" if not unique else "date '2000-01-01' + g::int"
    if base.startswith("timestamp"):
        return "timestamp '2024-01-01 00:00' + g * interval '1 minute' + (g % 60) * interval '1 second'"
    if base.startswith("time"):
        return "time '08:00' + (g % 600) * interval '1 minute'"
    if base.startswith("interval"):
        return "(g % 1000) * interval '1 minute'"
    if base in ("inet", "cidr"):
        return "('10.' || ((g / 65536) % 256) || '.' || ((g / 256) % 256) || '.' || (g % 256) || '/32')"
    if base in ("macaddr", "macaddr8"):
        return "('08002b' || lpad(to_hex(g % 16777216), 6, '0'))" + (
            "" if base == "macaddr" else " || '0000'"
        )
    if base == "tsvector":
        return f"to_tsvector('simple', {sql.Literal(name).as_string()} || ' word' || g || ' sample text')"
    if base == "tsquery":
        return "to_tsquery('simple', 'word' || g)"
    if base == "xml":
        return "xmlparse(content '<v>' || g || '</v>')"
    if base == "point":
        return "point(g, g % 100)"
    if base == "box":
        return "box(point(0, 0), point(g, g))"
    if base == "circle":
        return "circle(point(g, 0), 1 + g % 10)"
    if base == "int4range":
        return "int4range(g::int, (g + 1 + g % 10)::int)"
    if base in ("int8range", "numrange"):
        return f"{base}(g, g + 1 + g % 10)"
    if base == "daterange":
        return "daterange(date '2024-01-01' + g::int, date '2024-01-01' + g::int + 7)"
    if base in ("tsrange", "tstzrange"):
        cast = "timestamp" if base == "tsrange" else "timestamptz"
        return f"{base}(({cast} '2024-01-01' + g * interval '1 hour'), ({cast} '2024-01-01' + (g + 1) * interval '1 hour'))"
    if base in ("int4multirange", "int8multirange", "nummultirange"):
        return f"{base}({base.replace('multi', '')}(g::int, (g + 5)::int))"
    if base == "oid":
        return "g"
    return None


def _text_for(name: str, *, unique: bool = False) -> str:
    """A plausible text value (unique in g) for a column called `name`."""
    if "email" in name:
        return "'user' || g || '@example.com'"
    if name.endswith("url") or name in ("website", "link", "homepage"):
        return "'https://example.com/' || g"
    if "phone" in name:
        return "'+1555' || lpad(g::text, 7, '0')"
    if name in ("slug", "code", "sku", "key", "handle", "username", "login"):
        return f"{sql.Literal(name).as_string()} || '-' || g"
    if "name" in name or name in ("title", "label"):
        return f"initcap({sql.Literal(name.replace('_', ' ')).as_string()}) || ' ' || g"
    if name in ("status", "state", "kind", "type", "role") and not unique:
        return "(ARRAY['active', 'pending', 'archived'])[1 + (g % 3)] || ''"
    return f"{sql.Literal(name).as_string()} || ' ' || g"
