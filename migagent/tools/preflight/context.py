"""What planning knows at one statement: the target's schema and what the revision did before.

Kind functions read a `PlanContext` and return checks; only `plan.py` changes
the `PlanState` (after each statement), so every kind function stays pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pglast import ast
from pglast.stream import RawStream
from pglast.visitors import Visitor

from migagent.tools.introspect.model import Column, Index, SchemaSnapshot, Table
from migagent.tools.lint.statements import Statement
from migagent.tools.pgast import bare_relname
from migagent.tools.preflight.model import CheckKind, PreflightCheck
from migagent.tools.sql import quote_ident, quote_table


@dataclass
class PlanState:
    """What the revision has done so far, in the target's names."""

    created_tables: set[str] = field(default_factory=set)
    added_columns: set[tuple[str, str]] = field(default_factory=set)
    #: current name -> target name, for tables and (table, column)
    table_names: dict[str, str] = field(default_factory=dict)
    column_names: dict[tuple[str, str], str] = field(default_factory=dict)
    #: (table, constraint) -> its check, deferred from ADD ... NOT VALID to VALIDATE
    pending: dict[tuple[str, str], list[PreflightCheck]] = field(default_factory=dict)
    #: index name -> (table, key columns), for ADD CONSTRAINT ... USING INDEX
    created_indexes: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    #: enum types the revision creates or extends: qualified name -> labels
    enum_labels: dict[str, list[str]] = field(default_factory=dict)
    created_types: set[str] = field(default_factory=set)
    #: table -> "UPDATE at statement 3": DML the revision runs on it
    written: dict[str, str] = field(default_factory=dict)
    planned: set[tuple] = field(default_factory=set)


def deparse(node: Any) -> str:
    """SQL text of an expression node, as PostgreSQL's parser would read it back."""
    return RawStream()(node)


def columns_in(node: ast.Node | tuple[Any, ...] | None) -> list[str]:
    """Column names an expression reads, in order of appearance (none for no expression)."""
    found: list[str] = []

    class _Cols(Visitor):
        def visit_ColumnRef(self, _ancestors: object, ref: ast.ColumnRef) -> None:
            last = ref.fields[-1] if ref.fields else None
            if isinstance(last, ast.String) and last.sval and last.sval not in found:
                found.append(last.sval)

    if node is not None:
        _Cols()(node)
    return found


def qualify(schema: str | None, name: str) -> str:
    """search_path is `public`: a bare name means public.name."""
    return f"{schema or 'public'}.{name}"


def rv_name(rv: ast.RangeVar) -> str:
    return qualify(rv.schemaname, bare_relname(rv))


def short(table: str) -> str:
    """A table as a fix writes it (`products`, `sales.orders`)."""
    return quote_table(table)


@dataclass
class PlanContext:
    """One statement, with the snapshot and the revision's state before it."""

    snapshot: SchemaSnapshot
    state: PlanState
    index: int
    stmt: Statement
    current: str | None = None  # the ALTER TABLE's table, as the revision names it now

    @property
    def table(self) -> str:
        """The statement's table as the target names it."""
        assert self.current is not None
        return self.target_name(self.current)

    def target_name(self, current: str) -> str:
        return self.state.table_names.get(current, current)

    def resolve(self, rv: ast.RangeVar) -> str:
        return self.target_name(rv_name(rv))

    def created(self, table: str | None = None) -> bool:
        return (table or self.table) in self.state.created_tables

    def target_table(self, table: str | None = None) -> Table | None:
        return self.snapshot.tables.get(table or self.table)

    def column_name(self, column: str, table: str | None = None) -> str:
        return self.state.column_names.get((table or self.table, column), column)

    def target_column(self, column: str, table: str | None = None) -> Column | None:
        t = self.target_table(table)
        return t.column(self.column_name(column, table)) if t else None

    def find_index(self, name: str) -> Index | None:
        schema = (self.current or "public.").split(".", 1)[0]
        for t in self.snapshot.tables.values():
            if t.schema_name != schema:
                continue
            for ix in t.indexes:
                if ix.name == name:
                    return ix
        return None

    def check(self, kind: CheckKind, *, table: str | None = None, **fields: Any) -> PreflightCheck:
        """A check of this statement on `table` (default: the statement's), with what the
        revision did to that table before: created it (nothing to query), added the columns,
        or changed its rows (today's counts may not be what the statement meets)."""
        target = table or self.table
        columns = tuple(self.column_name(c, target) for c in fields.pop("columns", ()))
        t = self.snapshot.tables.get(target)
        skip, skip_status = fields.pop("skip", None), fields.pop("skip_status", "info")
        if skip is None:
            if target in self.state.created_tables:
                skip = f"{target} is created earlier in this revision: no rows on the target"
            elif t is None:
                skip, skip_status = f"{target} does not exist on the target", "unknown"
            else:
                new = [c for c in columns if (target, c) in self.state.added_columns]
                missing = [c for c in columns if t.column(c) is None and c not in new]
                if new:
                    skip = (
                        f"{target}.{', '.join(new)} is added earlier in this revision:"
                        " its values come from the revision, not the target"
                    )
                elif missing:
                    skip, skip_status = (
                        f"{target} has no column {', '.join(missing)} on the target",
                        "unknown",
                    )
        written = self.state.written.get(target)
        ref = fields.get("ref_table")
        if written is None and ref:
            written = self.state.written.get(ref)
        return PreflightCheck(
            kind=kind,
            statement_index=self.index,
            statement_line=self.stmt.line,
            sql=self.stmt.sql,
            table=target,
            columns=columns,
            row_estimate=t.row_estimate if t else 0,
            skip=skip,
            skip_status=skip_status,
            written_by=written,
            **fields,
        )


def not_null_fix(table: str, column: str) -> str:
    col = quote_ident(column)
    return f"backfill them first, e.g. UPDATE {short(table)} SET {col} = ... WHERE {col} IS NULL"
