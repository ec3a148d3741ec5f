"""A snapshot as readable, deterministic DDL: what a person pastes as "Current Schema".

Objects come out in an order that loads into an empty database: schemas,
extensions, types, functions that tables need, sequences, tables (parents and
referenced tables first), the constraints that must wait (foreign-key cycles,
NOT VALID), indexes, views, triggers, row-level security, comments. The same
snapshot always renders to the same text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from migagent.errors import UsageError
from migagent.tools.introspect.model import (
    Column,
    Constraint,
    Function,
    SchemaSnapshot,
    Sequence,
    Table,
    View,
)
from migagent.tools.sql import quote_ident, quote_qualified

_TYPE_BOUNDS = {
    "smallint": (-32768, 32767),
    "integer": (-2147483648, 2147483647),
    "bigint": (-9223372036854775808, 9223372036854775807),
}


ident = quote_ident  # one quoting rule for every tool: migagent.tools.sql
qualified = quote_qualified


def _qualified_key(key: str) -> str:
    schema, _, name = key.partition(".")
    return qualified(schema, name)


_KIND_ORDER = ["primary_key", "unique", "exclusion", "foreign_key", "check", "not_null"]


def _constraint_order(con: Constraint) -> tuple[int, str]:
    """Primary key first, then unique, exclusion, foreign keys, checks: as people write them."""
    return (_KIND_ORDER.index(con.kind), con.name)


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def render_ddl(
    snap: SchemaSnapshot, tables: list[str] | None = None, *, stats: bool = False
) -> str:
    """The whole schema as DDL, or only `tables` (with the types, sequences and
    trigger functions they use, and partitions of partitioned ones).

    `stats=True` puts each table's estimated rows and size in a comment above it.
    """
    return "\n".join(_Renderer(snap, tables, stats=stats).render()).rstrip() + "\n"


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return (
                f"{int(size)} {unit}"
                if unit == "bytes"
                else f"{size:.1f} {unit}".replace(".0 ", " ")
            )
        size /= 1024
    return f"{n} bytes"  # pragma: no cover


class _Renderer:
    def __init__(self, snap: SchemaSnapshot, tables: list[str] | None, *, stats: bool) -> None:
        self.snap = snap
        self.stats = stats
        self.subset = tables is not None
        if tables is None:
            self.tables = dict(snap.tables)
        else:
            self.tables = {}
            for name in tables:
                table = snap.table(name)
                if table is None:
                    known = ", ".join(sorted(snap.tables)) or "none"
                    raise UsageError(
                        f"table {name} is not in the schema", f"use one of: {known}"[:300]
                    )
                self.tables[table.qualified_name] = table
            for t in snap.tables.values():  # partitions of what was asked for
                if t.partition_of in self.tables:
                    self.tables[t.qualified_name] = t
        self.out: list[str] = []

    # ------------------------------------------------------------- selection
    def _selected_types(self) -> set[str]:
        if not self.subset:
            return set(self.snap.enums) | set(self.snap.domains) | set(self.snap.composite_types)
        types = " ".join(c.type for t in self.tables.values() for c in t.columns)
        names = set(self.snap.enums) | set(self.snap.domains) | set(self.snap.composite_types)
        used = {n for n in names if re.search(rf"(?<![\w.]){re.escape(n)}\b", types)}
        for d in list(used):  # a domain's base type may itself be an enum
            dom = self.snap.domains.get(d)
            if dom:
                used |= {
                    n for n in names if re.search(rf"(?<![\w.]){re.escape(n)}\b", dom.base_type)
                }
        return used

    def _selected_sequences(self) -> list[Sequence]:
        if not self.subset:
            return list(self.snap.sequences.values())
        defaults = " ".join(c.default or "" for t in self.tables.values() for c in t.columns)
        return [
            s
            for key, s in self.snap.sequences.items()
            if key in defaults or (s.owned_by and s.owned_by.rsplit(".", 1)[0] in self.tables)
        ]

    def _selected_functions(self) -> list[Function]:
        if not self.subset:
            return list(self.snap.functions.values())
        triggers = " ".join(tr.definition for t in self.tables.values() for tr in t.triggers)
        defaults = " ".join(
            f"{c.default or ''} {c.generated or ''}"
            for t in self.tables.values()
            for c in t.columns
        )
        text = triggers + " " + defaults
        return [
            f
            for f in self.snap.functions.values()
            if re.search(rf"(?<![\w.]){re.escape(f.schema_name)}\.{re.escape(f.name)}\(", text)
        ]

    # ---------------------------------------------------------------- render
    def render(self) -> list[str]:
        snap = self.snap
        out = self.out
        title = f"-- Schema of {snap.database or 'a database'}"
        if snap.server_version_text:
            title += f" (PostgreSQL {snap.server_version_text})"
        out.append(title)
        if snap.alembic_revisions:
            out.append(f"-- Alembic revision: {', '.join(snap.alembic_revisions)}")
        if self.subset:
            out.append(f"-- Tables: {', '.join(sorted(self.tables))}")
        out.append("")

        functions = self._selected_functions()
        if functions:
            out += ["SET check_function_bodies = false;", ""]
        if not self.subset:
            for schema in snap.schemas:
                if schema != "public":
                    out.append(f"CREATE SCHEMA {ident(schema)};")
            for ext in snap.extensions.values():
                out.append(
                    f"CREATE EXTENSION IF NOT EXISTS {ident(ext.name)} WITH SCHEMA {ident(ext.schema_name)};"
                )
            self._gap()

        types = self._selected_types()
        for key, enum in snap.enums.items():
            if key in types:
                labels = ", ".join(literal(label) for label in enum.labels)
                out.append(f"CREATE TYPE {_qualified_key(key)} AS ENUM ({labels});")
        for key, dom in snap.domains.items():
            if key in types:
                parts = [f"CREATE DOMAIN {_qualified_key(key)} AS {dom.base_type}"]
                if dom.default is not None:
                    parts.append(f"DEFAULT {dom.default}")
                if not dom.nullable:
                    parts.append("NOT NULL")
                parts += dom.checks
                out.append(" ".join(parts) + ";")
        for key, comp in snap.composite_types.items():
            if key in types:
                attrs = ", ".join(f"{ident(n)} {t}" for n, t in comp.attributes)
                out.append(f"CREATE TYPE {_qualified_key(key)} AS ({attrs});")
        self._gap()

        early, late_tables, late_views = [], [], []
        for f in functions:
            uses = self._mentions(f, list(snap.views))
            if uses:
                late_views.append(f)
            elif f.sql_body or self._mentions(f, list(snap.tables)):
                late_tables.append(f)
            else:
                early.append(f)
        self._functions(early)

        sequences = self._selected_sequences()
        for seq in sequences:
            out.append(self._sequence(seq))
        self._gap()

        deferred = self._tables()

        for table, con in deferred:
            out.append(
                f"ALTER TABLE {qualified(table.schema_name, table.name)} "
                f"ADD CONSTRAINT {ident(con.name)} {con.definition};"
            )
        self._gap()
        for seq in sequences:
            if seq.owned_by:
                t, _, col = seq.owned_by.rpartition(".")
                if self.subset and t not in self.tables:
                    continue
                out.append(
                    f"ALTER SEQUENCE {qualified(seq.schema_name, seq.name)} "
                    f"OWNED BY {_qualified_key(t)}.{ident(col)};"
                )
        self._gap()

        for table in self._ordered_tables():
            self._indexes(table.indexes, partitioned=table.kind == "partitioned")
        self._gap()

        self._functions(late_tables)
        if not self.subset:
            self._views()
        self._functions(late_views)

        owners: list[Table | View] = [*self._ordered_tables()]
        if not self.subset:
            owners += self.snap.views.values()
        for owner in owners:
            for trig in owner.triggers:
                if trig.inherited:
                    continue
                out.append(trig.definition + ";")
                if trig.enabled != "origin":
                    action = {
                        "disabled": "DISABLE",
                        "always": "ENABLE ALWAYS",
                        "replica": "ENABLE REPLICA",
                    }[trig.enabled]
                    out.append(
                        f"ALTER TABLE {qualified(owner.schema_name, owner.name)} "
                        f"{action} TRIGGER {ident(trig.name)};"
                    )
        self._gap()

        for table in self._ordered_tables():
            self._security(table)
        self._gap()

        self._comments(types, sequences, functions)
        return out

    def _gap(self) -> None:
        if self.out and self.out[-1] != "":
            self.out.append("")

    @staticmethod
    def _mentions(f: Function, keys: Iterable[str]) -> bool:
        text = f"{f.identity_args} {f.returns or ''}"
        return any(re.search(rf"(?<![\w.]){re.escape(k)}\b", text) for k in keys)

    def _functions(self, functions: list[Function]) -> None:
        for f in functions:
            self.out.append(f.definition.rstrip().rstrip(";") + ";")
            self.out.append("")

    @staticmethod
    def _sequence(seq: Sequence) -> str:
        low, high = _TYPE_BOUNDS.get(seq.data_type, (None, None))
        default_min, default_max = (1, high) if seq.increment > 0 else (low, -1)
        default_start = seq.min_value if seq.increment > 0 else seq.max_value
        parts = [f"CREATE SEQUENCE {qualified(seq.schema_name, seq.name)}"]
        if seq.data_type != "bigint":
            parts.append(f"AS {seq.data_type}")
        if seq.start != default_start:
            parts.append(f"START WITH {seq.start}")
        if seq.increment != 1:
            parts.append(f"INCREMENT BY {seq.increment}")
        if seq.min_value != default_min:
            parts.append(f"MINVALUE {seq.min_value}")
        if seq.max_value != default_max:
            parts.append(f"MAXVALUE {seq.max_value}")
        if seq.cache != 1:
            parts.append(f"CACHE {seq.cache}")
        if seq.cycle:
            parts.append("CYCLE")
        return " ".join(parts) + ";"

    # ----------------------------------------------------------------- tables
    def _ordered_tables(self) -> list[Table]:
        """Parents before partitions/children; referenced tables first where possible."""
        if hasattr(self, "_order"):
            return self._order
        pending = dict(sorted(self.tables.items()))
        done: set[str] = set()
        order: list[Table] = []

        def hard(t: Table) -> set[str]:
            deps = set(t.inherits)
            if t.partition_of:
                deps.add(t.partition_of)
            return {d for d in deps if d in self.tables}

        def soft(t: Table) -> set[str]:
            return {
                c.ref_table
                for c in t.constraints
                if c.kind == "foreign_key" and c.ref_table in self.tables
            } - {t.qualified_name}

        while pending:
            ready = [k for k, t in pending.items() if hard(t) <= done and soft(t) <= done]
            if not ready:
                ready = [k for k, t in pending.items() if hard(t) <= done] or list(pending)
            key = ready[0]
            order.append(pending.pop(key))
            done.add(key)
        self._order = order
        return order

    def _tables(self) -> list[tuple[Table, Constraint]]:
        """CREATE TABLE statements; returns constraints that must be added afterwards."""
        created: set[str] = set()
        deferred: list[tuple[Table, Constraint]] = []
        for table in self._ordered_tables():
            name = qualified(table.schema_name, table.name)
            lines: list[str] = []
            for col in table.columns:
                if not col.inherited:
                    lines.append(self._column(col))
            for con in sorted(table.constraints, key=_constraint_order):
                if con.inherited:
                    continue
                waits = not con.validated or (
                    con.kind == "foreign_key"
                    and con.ref_table != table.qualified_name
                    and con.ref_table in self.tables
                    and con.ref_table not in created
                )
                if waits:
                    deferred.append((table, con))
                else:
                    lines.append(f"CONSTRAINT {ident(con.name)} {con.definition}")
            head = "CREATE UNLOGGED TABLE" if table.persistence == "unlogged" else "CREATE TABLE"
            body = ""
            if lines or not table.partition_of:
                body = " (\n" + ",\n".join("    " + ln for ln in lines) + "\n)" if lines else " ()"
            text = f"{head} {name}"
            if table.partition_of:
                text += f" PARTITION OF {_qualified_key(table.partition_of)}{body}"
                text += f"\n    {table.partition_bound}"
            else:
                text += body
                if table.inherits:
                    parents = ", ".join(_qualified_key(p) for p in table.inherits)
                    text += f" INHERITS ({parents})"
            if table.partition_key:
                text += f" PARTITION BY {table.partition_key}"
            if table.options:
                text += f" WITH ({', '.join(table.options)})"
            if self.stats and table.kind == "table":
                self.out.append(
                    f"-- {table.qualified_name}: ~{table.row_estimate:,} rows, "
                    f"{human_bytes(table.total_bytes)}"
                )
            self.out += [text + ";", ""]
            created.add(table.qualified_name)
        return deferred

    @staticmethod
    def _column(col: Column) -> str:
        parts = [ident(col.name), col.type]
        if col.collation:
            parts.append(f"COLLATE {col.collation}")
        if col.generated is not None:
            kind = (col.generated_kind or "stored").upper()
            parts.append(f"GENERATED ALWAYS AS ({col.generated}) {kind}")
        if col.identity:
            parts.append(f"GENERATED {col.identity.upper()} AS IDENTITY")
        if col.default is not None:
            parts.append(f"DEFAULT {col.default}")
        if not col.nullable:
            parts.append("NOT NULL")
        return " ".join(parts)

    def _indexes(self, indexes, *, partitioned: bool = False) -> None:
        for index in indexes:
            if index.constraint or index.parent:
                continue  # made by its constraint, or by the partitioned parent's index
            text = index.definition
            if partitioned:
                text = text.replace(" ON ONLY ", " ON ", 1)
            if not index.valid:
                self.out.append("-- INVALID index (a failed CREATE INDEX CONCURRENTLY):")
            self.out.append(text + ";")

    # ------------------------------------------------------------------ views
    def _views(self) -> None:
        views = dict(self.snap.views)
        done: set[str] = set()
        while views:
            ready = [k for k, v in views.items() if not (set(v.depends_on) & views.keys() - {k})]
            key = (ready or list(views))[0]
            view = views.pop(key)
            done.add(key)
            self.out.append(self._view(view))
            self._indexes(view.indexes)
            self.out.append("")

    @staticmethod
    def _view(view: View) -> str:
        kind = "MATERIALIZED VIEW" if view.materialized else "VIEW"
        opts = f" WITH ({', '.join(view.options)})" if view.options else ""
        body = view.definition.rstrip().rstrip(";")
        return f"CREATE {kind} {qualified(view.schema_name, view.name)}{opts} AS\n{body};"

    # --------------------------------------------------------------- security
    def _security(self, table: Table) -> None:
        name = qualified(table.schema_name, table.name)
        if table.rls_enabled:
            self.out.append(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;")
        if table.rls_forced:
            self.out.append(f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY;")
        for pol in table.policies:
            text = f"CREATE POLICY {ident(pol.name)} ON {name}"
            if not pol.permissive:
                text += " AS RESTRICTIVE"
            text += f" FOR {pol.command}"
            roles = ", ".join("PUBLIC" if r == "public" else ident(r) for r in pol.roles)
            text += f" TO {roles}"
            if pol.using is not None:
                text += f" USING ({pol.using})"
            if pol.with_check is not None:
                text += f" WITH CHECK ({pol.with_check})"
            self.out.append(text + ";")

    # --------------------------------------------------------------- comments
    def _comments(self, types: set[str], sequences: list[Sequence], functions: list[Function]):
        out = self.out

        def add(what: str, text: str | None) -> None:
            if text is not None:
                out.append(f"COMMENT ON {what} IS {literal(text)};")

        snap = self.snap
        for key, enum in snap.enums.items():
            if key in types:
                add(f"TYPE {_qualified_key(key)}", enum.comment)
        for key, dom in snap.domains.items():
            if key in types:
                add(f"DOMAIN {_qualified_key(key)}", dom.comment)
        for key, comp in snap.composite_types.items():
            if key in types:
                add(f"TYPE {_qualified_key(key)}", comp.comment)
        for seq in sequences:
            add(f"SEQUENCE {qualified(seq.schema_name, seq.name)}", seq.comment)
        for f in functions:
            kind = {"procedure": "PROCEDURE", "aggregate": "AGGREGATE"}.get(f.kind, "FUNCTION")
            add(f"{kind} {qualified(f.schema_name, f.name)}({f.identity_args})", f.comment)
        for table in self._ordered_tables():
            name = qualified(table.schema_name, table.name)
            add(f"TABLE {name}", table.comment)
            for col in table.columns:
                add(f"COLUMN {name}.{ident(col.name)}", col.comment)
            for con in table.constraints:
                if not con.inherited:
                    add(f"CONSTRAINT {ident(con.name)} ON {name}", con.comment)
            for index in table.indexes:
                add(f"INDEX {qualified(table.schema_name, index.name)}", index.comment)
            for trig in table.triggers:
                if not trig.inherited:
                    add(f"TRIGGER {ident(trig.name)} ON {name}", trig.comment)
            for pol in table.policies:
                add(f"POLICY {ident(pol.name)} ON {name}", pol.comment)
        if not self.subset:
            for view in snap.views.values():
                name = qualified(view.schema_name, view.name)
                kind = "MATERIALIZED VIEW" if view.materialized else "VIEW"
                add(f"{kind} {name}", view.comment)
                for col in view.columns:
                    add(f"COLUMN {name}.{ident(col.name)}", col.comment)
                for index in view.indexes:
                    add(f"INDEX {qualified(view.schema_name, index.name)}", index.comment)
                for trig in view.triggers:
                    add(f"TRIGGER {ident(trig.name)} ON {name}", trig.comment)
