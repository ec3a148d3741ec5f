"""Rule registry, per-migration state and the helpers rules share.

A rule is a function `check(stmt, c) -> Iterable[LintFinding]` registered with
`@rule(id, summary, *node_types)`; it runs on every statement whose parsed node
is one of `node_types`, seeing `c.state` as it was *before* the statement.
The engine (`migagent.tools.lint.engine`) updates the state afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import overload

from pglast import ast, parse_sql
from pglast.enums import ConstrType
from pglast.stream import RawStream

from migagent.tools.lint.context import LintContext
from migagent.tools.lint.locks import blocks
from migagent.tools.lint.report import LintFinding, Severity
from migagent.tools.lint.statements import Statement
from migagent.tools.pgast import dotted, relname, svals
from migagent.tools.sql import quote_ident

Check = Callable[["Statement", "RuleContext"], Iterable[LintFinding]]


@dataclass(frozen=True)
class Rule:
    id: str
    summary: str
    nodes: tuple[type, ...]
    check: Check
    family: str


RULES: dict[str, Rule] = {}
_BY_NODE: dict[type, list[Rule]] = {}


def rule(rule_id: str, summary: str, *nodes: type) -> Callable[[Check], Check]:
    """Register a rule for statements whose node is one of `nodes`."""

    def deco(fn: Check) -> Check:
        if rule_id in RULES:  # pragma: no cover - programming error
            raise ValueError(f"duplicate rule id {rule_id}")
        family = fn.__module__.rsplit(".", 1)[-1]
        r = Rule(rule_id, summary, nodes, fn, family)
        RULES[rule_id] = r
        for n in nodes:
            _BY_NODE.setdefault(n, []).append(r)
        return fn

    return deco


def rules_for(node: ast.Node) -> list[Rule]:
    return _BY_NODE.get(type(node), [])


#: Rules with no statement of their own (emitted by the engine).
ENGINE_RULES = {
    "data-migration-not-linted": "upgrade() reads query results; the rest is not linted statically",
}


# --------------------------------------------------------------------------- names


@overload
def norm(table: str) -> str: ...
@overload
def norm(table: str | None) -> str | None: ...
def norm(table: str | None) -> str | None:
    return table.lower() if table else table


@overload
def table_of(rv: ast.RangeVar) -> str: ...
@overload
def table_of(rv: ast.RangeVar | None) -> str | None: ...
def table_of(rv: ast.RangeVar | None) -> str | None:
    """`schema.name` or `name`, lower-cased: the key the lint state uses for a table."""
    return norm(relname(rv))


def names(items: Iterable[object] | None) -> str:
    return dotted(items)


# --------------------------------------------------------------------------- types


@dataclass(frozen=True)
class TypeSpec:
    """A column type reduced to what binary-coercibility depends on."""

    name: str  # canonical: int4, int8, varchar, text, numeric, timestamp, timestamptz, json, ...
    mods: tuple[int, ...] = ()
    array: bool = False

    def __str__(self) -> str:
        mods = f"({', '.join(map(str, self.mods))})" if self.mods else ""
        return f"{self.name}{mods}{'[]' if self.array else ''}"


_ALIASES = {
    "integer": "int4",
    "int": "int4",
    "smallint": "int2",
    "bigint": "int8",
    "character varying": "varchar",
    "character": "bpchar",
    "char": "bpchar",
    "decimal": "numeric",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
    "time without time zone": "time",
    "time with time zone": "timetz",
    "boolean": "bool",
    "double precision": "float8",
    "real": "float4",
    "bit varying": "varbit",
}


def type_spec(tn: ast.TypeName) -> TypeSpec:
    parts = svals(tn.names)
    if len(parts) > 1 and parts[0] == "pg_catalog":
        parts = parts[1:]
    name = ".".join(parts).lower()
    name = _ALIASES.get(name, name)
    mods: list[int] = []
    for m in tn.typmods or ():
        if isinstance(m, ast.A_Const) and isinstance(m.val, ast.Integer) and m.val.ival is not None:
            mods.append(m.val.ival)
    return TypeSpec(name, tuple(mods), bool(tn.arrayBounds))


def type_spec_from_text(text: str) -> TypeSpec | None:
    """Parse a type as written in SQL or by format_type() (`character varying(20)`)."""
    try:
        stmt = parse_sql(f"SELECT NULL::{text}")[0].stmt
    except Exception:
        return None
    if not isinstance(stmt, ast.SelectStmt) or not stmt.targetList:
        return None
    target = stmt.targetList[0]
    cast = target.val if isinstance(target, ast.ResTarget) else None
    if not isinstance(cast, ast.TypeCast) or cast.typeName is None:
        return None
    try:
        return type_spec(cast.typeName)
    except ValueError:  # a name part that is not a String
        return None


def type_sql(tn: ast.TypeName) -> str:
    return RawStream()(tn)


def sql_of(node: ast.Node) -> str:
    return RawStream()(node)


# --------------------------------------------------------------------------- Alembic code


def py(s: str) -> str:
    """A Python string literal for `s` (double-quoted)."""
    return json.dumps(s, ensure_ascii=False)


def op_execute(sql: str) -> str:
    return f"op.execute({py(sql)})"


def autocommit(*lines: str) -> str:
    body = "\n".join("    " + ln for block in lines for ln in block.splitlines())
    return "with op.get_context().autocommit_block():\n" + body


qident = quote_ident  # identifiers are quoted in one place: migagent.tools.sql


# --------------------------------------------------------------------------- state


@dataclass
class IndexInfo:
    table: str
    columns: list[str]
    concurrent: bool
    unique: bool


@dataclass
class LintState:
    """What the migration has done so far."""

    created_tables: set[str] = field(default_factory=set)
    created_indexes: dict[str, IndexInfo] = field(default_factory=dict)
    #: every index key-column list the whole migration creates, per table (pre-pass)
    migration_indexes: dict[str, list[list[str]]] = field(default_factory=dict)
    column_types: dict[str, dict[str, TypeSpec]] = field(default_factory=dict)
    #: (table, constraint) -> txn in which it was added NOT VALID
    not_valid: dict[tuple[str, str], int] = field(default_factory=dict)
    #: (table, constraint) -> column for CHECK (col IS NOT NULL) / NOT NULL constraints
    not_null_constraints: dict[tuple[str, str], str] = field(default_factory=dict)
    #: (table, column) with a validated IS NOT NULL check: SET NOT NULL skips the scan
    validated_not_null: set[tuple[str, str]] = field(default_factory=set)
    #: (table, constraint) added by this migration: its definition is visible
    seen_constraints: set[tuple[str, str]] = field(default_factory=set)
    #: table -> constraints VALIDATEd here whose definition is not visible (an earlier
    #: revision added them): one may be a CHECK (col IS NOT NULL) that proves SET NOT NULL
    validated_unseen: dict[str, set[str]] = field(default_factory=dict)
    lock_timeout_session: bool = False
    lock_timeout_txn: int | None = None  # SET LOCAL lock_timeout in this transaction
    lock_timeout_flagged: bool = False
    timezone: str | None = None


@dataclass
class Size:
    rows: int | None
    basis: str
    created: bool


class RuleContext:
    """Handed to every rule: the lint context, the migration state and helpers."""

    def __init__(self, ctx: LintContext, state: LintState) -> None:
        self.ctx = ctx
        self.state = state
        self.stmt: Statement | None = None

    # ---- tables
    def created(self, table: str | None) -> bool:
        if not table:
            return False
        t = table.lower()
        created = self.state.created_tables
        if t in created:
            return True
        if "." in t:
            schema, name = t.split(".", 1)
            return schema == "public" and name in created
        return f"public.{t}" in created

    def size(self, table: str | None) -> Size:
        if table and self.created(table):
            return Size(0, "created in this migration", True)
        if not table:
            return Size(None, "unknown", False)
        rows, basis = self.ctx.size_of(table)
        return Size(rows, basis, False)

    def sized_severity(self, size: Size) -> tuple[Severity, str]:
        """Severity for a blocking rewrite/scan of a table of `size`, with a note."""
        if size.rows is None:
            return "warning", (
                " Table size unknown: pass --rows TABLE=N or --db to judge it"
                f" (error at {self.ctx.large_rows:,} rows or more)."
            )
        if size.rows >= self.ctx.large_rows:
            return "error", f" ~{size.rows:,} rows ({size.basis})."
        return "info", (
            f" ~{size.rows:,} rows ({size.basis}), below the {self.ctx.large_rows:,}-row"
            " threshold: brief."
        )

    def column_type(self, table: str, column: str) -> TypeSpec | None:
        t = self.state.column_types.get(table.lower(), {}).get(column)
        if t is not None:
            return t
        text = self.ctx.column_type(table, column)
        return type_spec_from_text(text) if text else None

    def has_index(self, table: str, columns: list[str]) -> bool | None:
        """Whether some index's leading key columns are exactly `columns` (any order).
        None when existing indexes are unknown (no --db) and none was found."""
        want = set(columns)
        found = list(self.state.migration_indexes.get(table.lower(), []))
        existing = self.ctx.indexes_for(table)
        found += existing or []
        for cols in found:
            if len(cols) >= len(want) and set(cols[: len(want)]) == want:
                return True
        if self.created(table) or existing is not None:
            return False
        return None

    def lock_timeout_set(self, stmt: Statement) -> bool:
        s = self.state
        return (
            self.ctx.lock_timeout_preset
            or s.lock_timeout_session
            or (
                s.lock_timeout_txn is not None
                and stmt.in_transaction
                and s.lock_timeout_txn == stmt.txn
            )
        )

    # ---- findings
    def finding(
        self,
        rule_id: str,
        message: str,
        *,
        table: str | None = None,
        lock: str | None = None,
        rewrites: bool = False,
        scans: bool = False,
        fix: str | None = None,
        severity: Severity | None = None,
        size: Size | None = None,
        blocks_override: list[str] | None = None,
    ) -> LintFinding:
        """Build a finding for the current statement. Without `severity` it scales
        with the table's size (`sized_severity`)."""
        stmt = self.stmt
        assert stmt is not None
        if size is None:
            size = self.size(table)
        if severity is None:
            severity, note = self.sized_severity(size)
            message += note
        return LintFinding(
            rule=rule_id,
            severity=severity,
            message=message,
            statement=stmt.sql,
            file=stmt.file,
            line=stmt.line,
            column=stmt.column,
            lock=lock,
            blocks=blocks_override if blocks_override is not None else blocks(lock),
            rewrites=rewrites,
            scans=scans or rewrites,
            table=table,
            rows=size.rows,
            size_basis=size.basis,
            fix=fix,
        )


def constraints_of(elt: ast.Node) -> tuple[ast.Node, ...]:
    return (elt.constraints if isinstance(elt, ast.ColumnDef) else (elt,)) or ()


def is_contype(c: object, *types: ConstrType) -> bool:
    return isinstance(c, ast.Constraint) and c.contype in types


def cmds(stmt: Statement) -> Iterator[ast.AlterTableCmd]:
    """The subcommands of an ALTER TABLE statement (none for any other statement)."""
    node = stmt.node
    if isinstance(node, ast.AlterTableStmt):
        for cmd in node.cmds or ():
            if isinstance(cmd, ast.AlterTableCmd):
                yield cmd
