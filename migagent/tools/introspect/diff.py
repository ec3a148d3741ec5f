"""The schema diff: every difference between two snapshots, in plain words.

Used to prove that a downgrade restores a schema exactly, so it compares what
defines a schema and nothing else: statistics (row estimates, sizes, sequence
positions, attnums) never count; the order of live columns does; enum label
order does. With `ignore_names=True`, index and constraint names do not count
(they are matched by their definition on the same table), except the names
listed in `exact_names`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Literal

from pydantic import BaseModel, Field

from migagent.tools.introspect.model import (
    Column,
    Constraint,
    Index,
    Policy,
    SchemaSnapshot,
    Table,
    Trigger,
    View,
)
from migagent.tools.introspect.sqltext import unwrap

ChangeKind = Literal["added", "removed", "changed"]


class Change(BaseModel):
    kind: ChangeKind
    object_type: str  # table, column, index, constraint, enum, view, function, trigger, ...
    name: str  # qualified: schema.table, schema.table.column, schema.fn(args), ...
    detail: str  # one plain sentence

    def __str__(self) -> str:
        return self.detail


class SchemaDiff(BaseModel):
    changes: list[Change] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.changes

    def summary(self) -> list[str]:
        return [c.detail for c in self.changes]


def diff_snapshots(
    before: SchemaSnapshot,
    after: SchemaSnapshot,
    *,
    ignore_names: bool = False,
    exact_names: frozenset[str] | set[str] = frozenset(),
    ignore: Callable[[Change], bool] | None = None,
) -> SchemaDiff:
    """Every schema difference from `before` to `after`.

    `ignore` drops any change for which it returns True. Objects named in
    either snapshot's `stand_ins` (and everything on them) are left out.
    """
    d = _Differ(ignore_names=ignore_names, exact_names=frozenset(exact_names))
    d.run(before, after)
    stand_ins = set(before.stand_ins) | set(after.stand_ins)
    changes = [
        c for c in d.changes if not _is_stand_in(c.name, stand_ins) and not (ignore and ignore(c))
    ]
    return SchemaDiff(changes=changes)


# ---------------------------------------------------------------- helpers
def short(name: str) -> str:
    """A qualified name as people say it: without the `public.` prefix."""
    return name[len("public.") :] if name.startswith("public.") else name


def _is_stand_in(name: str, stand_ins: set[str]) -> bool:
    return any(name == s or name.startswith((s + ".", s + "(")) for s in stand_ins)


_INDEX_NAME = re.compile(r'^(CREATE (?:UNIQUE )?INDEX )(?:"(?:[^"]|"")+"|\S+) (ON )')


def index_signature(index: Index) -> str:
    """pg_get_indexdef without the index name: what the index *is*."""
    return _INDEX_NAME.sub(r"\1\2", index.definition)


def describe_index(index: Index) -> str:
    """'unique btree (a, b) where (a > 0)' -- the part of the definition after USING."""
    _, _, using = index.definition.partition(" USING ")
    text = ("unique " if index.unique else "") + (using or index.definition)
    if not index.valid:
        text += " (invalid)"
    return text


def describe_column(col: Column) -> str:
    parts = [col.type]
    if col.collation:
        parts.append(f"collate {col.collation}")
    if col.generated:
        parts.append(f"generated always as ({unwrap(col.generated)}) {col.generated_kind or ''}")
    if col.identity:
        parts.append(f"generated {col.identity} as identity")
    if col.default is not None:
        parts.append(f"default {col.default}")
    parts.append("nullable" if col.nullable else "not null")
    return ", ".join(p.strip() for p in parts)


def _q(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return "(" + ", ".join(str(v) for v in value) + ")" if value else "()"
    return str(value)


def _first_difference(a: str, b: str) -> str:
    la, lb = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(la, lb, strict=False), 1):
        if x != y:
            return f"line {i}: {x.strip()!r} -> {y.strip()!r}"
    if len(la) != len(lb):
        n = min(len(la), len(lb)) + 1
        extra = (la if len(la) > len(lb) else lb)[n - 1].strip()
        return f"line {n}: {'removed' if len(la) > len(lb) else 'added'} {extra!r}"
    return "whitespace differs"


class _Differ:
    def __init__(self, *, ignore_names: bool, exact_names: frozenset[str]) -> None:
        self.ignore_names = ignore_names
        self.exact_names = exact_names
        self.changes: list[Change] = []

    def add(self, kind: ChangeKind, object_type: str, name: str, detail: str) -> None:
        self.changes.append(Change(kind=kind, object_type=object_type, name=name, detail=detail))

    def fields(
        self,
        object_type: str,
        name: str,
        label: str,
        pairs: Iterable[tuple[str, object, object]],
    ) -> None:
        """One 'changed' per differing field."""
        for field, a, b in pairs:
            if a != b:
                self.add(
                    "changed", object_type, name, f"{label} changed: {field} {_q(a)} -> {_q(b)}"
                )

    def comment(self, name: str, label: str, a: str | None, b: str | None) -> None:
        if a == b:
            return
        if a is None:
            self.add("added", "comment", name, f"comment on {label} added: {b!r}")
        elif b is None:
            self.add("removed", "comment", name, f"comment on {label} removed (was {a!r})")
        else:
            self.add("changed", "comment", name, f"comment on {label} changed: {a!r} -> {b!r}")

    # ------------------------------------------------------------- the walk
    def run(self, a: SchemaSnapshot, b: SchemaSnapshot) -> None:
        self.extensions(a, b)
        self.simple(
            "enum",
            a.enums,
            b.enums,
            lambda e: f"labels {_q(e.labels)}",
            lambda e: [("labels", e.labels)],
        )
        self.simple(
            "domain",
            a.domains,
            b.domains,
            lambda d: f"{d.base_type}" + ("" if d.nullable else " not null"),
            lambda d: [
                ("base type", d.base_type),
                ("not null", not d.nullable),
                ("default", d.default),
                ("checks", d.checks),
            ],
        )
        self.simple(
            "type",
            a.composite_types,
            b.composite_types,
            lambda t: "composite (" + ", ".join(f"{n} {ty}" for n, ty in t.attributes) + ")",
            lambda t: [("attributes", [f"{n} {ty}" for n, ty in t.attributes])],
        )
        self.simple(
            "sequence",
            a.sequences,
            b.sequences,
            lambda s: f"{s.data_type}" + (f", owned by {short(s.owned_by)}" if s.owned_by else ""),
            lambda s: [
                ("data type", s.data_type),
                ("start", s.start),
                ("increment", s.increment),
                ("min value", s.min_value),
                ("max value", s.max_value),
                ("cycle", s.cycle),
                ("cache", s.cache),
                ("owned by", s.owned_by),
            ],
        )
        self.tables(a.tables, b.tables)
        self.views(a.views, b.views)
        self.functions(a, b)

    def extensions(self, a: SchemaSnapshot, b: SchemaSnapshot) -> None:
        for name in sorted(a.extensions.keys() | b.extensions.keys()):
            x, y = a.extensions.get(name), b.extensions.get(name)
            if x is None:
                assert y is not None  # the key is one of a's or b's
                self.add("added", "extension", name, f"extension {name} added: version {y.version}")
            elif y is None:
                self.add("removed", "extension", name, f"extension {name} removed")
            else:
                self.fields(
                    "extension",
                    name,
                    f"extension {name}",
                    [("version", x.version, y.version), ("schema", x.schema_name, y.schema_name)],
                )

    def simple(self, object_type, a: dict, b: dict, describe, props) -> None:
        for key in sorted(a.keys() | b.keys()):
            x, y = a.get(key), b.get(key)
            label = f"{object_type} {short(key)}"
            if x is None:
                self.add("added", object_type, key, f"{label} added: {describe(y)}")
                continue
            if y is None:
                self.add("removed", object_type, key, f"{label} removed")
                continue
            self.fields(
                object_type,
                key,
                label,
                [(f, va, vb) for (f, va), (_, vb) in zip(props(x), props(y), strict=True)],
            )
            self.comment(key, label, x.comment, y.comment)

    # ----------------------------------------------------------------- tables
    def tables(self, a: dict[str, Table], b: dict[str, Table]) -> None:
        for key in sorted(a.keys() | b.keys()):
            x, y = a.get(key), b.get(key)
            label = f"table {short(key)}"
            if x is None:
                assert y is not None  # the key is one of a's or b's
                kind = "partitioned table" if y.kind == "partitioned" else "table"
                cols = ", ".join(c.name for c in y.columns)
                self.add("added", "table", key, f"{kind} {short(key)} added: ({cols})")
                continue
            if y is None:
                self.add("removed", "table", key, f"{label} removed")
                continue
            self.fields(
                "table",
                key,
                label,
                [
                    ("kind", x.kind, y.kind),
                    ("persistence", x.persistence, y.persistence),
                    ("partition key", x.partition_key, y.partition_key),
                    ("partition of", x.partition_of, y.partition_of),
                    ("partition bound", x.partition_bound, y.partition_bound),
                    ("inherits", x.inherits, y.inherits),
                    ("storage options", x.options, y.options),
                    ("row level security", x.rls_enabled, y.rls_enabled),
                    ("forced row level security", x.rls_forced, y.rls_forced),
                ],
            )
            self.comment(key, label, x.comment, y.comment)
            self.columns(key, x.columns, y.columns)
            self.constraints(key, x.constraints, y.constraints)
            self.indexes(key, x.indexes, y.indexes)
            self.triggers(key, x.triggers, y.triggers)
            self.policies(key, x.policies, y.policies)

    def columns(self, table: str, a: list[Column], b: list[Column]) -> None:
        ca, cb = {c.name: c for c in a}, {c.name: c for c in b}
        t = short(table)
        for c in a:
            if c.name not in cb:
                self.add("removed", "column", f"{table}.{c.name}", f"column {t}.{c.name} removed")
        for c in b:
            if c.name not in ca:
                self.add(
                    "added",
                    "column",
                    f"{table}.{c.name}",
                    f"column {t}.{c.name} added: {describe_column(c)}",
                )
        for c in a:
            d = cb.get(c.name)
            if d is None:
                continue
            name = f"{table}.{c.name}"
            label = f"column {t}.{c.name}"
            if c.nullable != d.nullable:
                what = "now nullable" if d.nullable else "now not null"
                self.add("changed", "column", name, f"{label} changed: {what}")
            self.fields(
                "column",
                name,
                label,
                [
                    ("type", c.type, d.type),
                    ("default", c.default, d.default),
                    ("identity", c.identity, d.identity),
                    ("generated expression", c.generated, d.generated),
                    ("generated kind", c.generated_kind, d.generated_kind),
                    ("collation", c.collation, d.collation),
                    ("inherited", c.inherited, d.inherited),
                ],
            )
            self.comment(name, label, c.comment, d.comment)
        common_a = [c.name for c in a if c.name in cb]
        common_b = [c.name for c in b if c.name in ca]
        if common_a != common_b:
            self.add(
                "changed",
                "table",
                table,
                f"table {t} changed: column order {', '.join(common_a)} -> {', '.join(common_b)}",
            )

    def _named(self, table: str, name: str) -> bool:
        """True when this object is matched by its name."""
        if not self.ignore_names:
            return True
        schema = table.split(".", 1)[0]
        return bool({name, f"{schema}.{name}", f"{table}.{name}"} & self.exact_names)

    def _pair(self, table: str, a: list, b: list, signature: Callable) -> tuple[list, list, list]:
        """Match objects by name (or by signature, names ignored): (pairs, only_a, only_b)."""
        pairs, only_a, only_b = [], [], []
        na = {o.name: o for o in a if self._named(table, o.name)}
        nb = {o.name: o for o in b if self._named(table, o.name)}
        for name, o in na.items():
            if name in nb:
                pairs.append((o, nb[name]))
            else:
                only_a.append(o)
        only_b.extend(o for name, o in nb.items() if name not in na)
        by_sig: dict[str, list] = defaultdict(list)
        for o in b:
            if o.name not in nb:
                by_sig[signature(o)].append(o)
        for o in a:
            if o.name in na:
                continue
            bucket = by_sig.get(signature(o))
            if bucket:
                pairs.append((o, bucket.pop(0)))
            else:
                only_a.append(o)
        only_b.extend(o for bucket in by_sig.values() for o in bucket)
        key = lambda o: o.name  # noqa: E731
        return (
            sorted(pairs, key=lambda p: p[0].name),
            sorted(only_a, key=key),
            sorted(only_b, key=key),
        )

    def constraints(self, table: str, a: list[Constraint], b: list[Constraint]) -> None:
        t = short(table)
        pairs, gone, new = self._pair(table, a, b, lambda c: f"{c.kind}\0{c.definition}")
        for c in gone:
            self.add(
                "removed",
                "constraint",
                f"{table}.{c.name}",
                f"constraint {c.name} on {t} removed (was {c.definition})",
            )
        for c in new:
            self.add(
                "added",
                "constraint",
                f"{table}.{c.name}",
                f"constraint {c.name} on {t} added: {c.definition}",
            )
        for x, y in pairs:
            name = f"{table}.{x.name}"
            label = f"constraint {x.name} on {t}"
            if x.definition != y.definition:
                self.add(
                    "changed",
                    "constraint",
                    name,
                    f"{label} changed: {x.definition} -> {y.definition}",
                )
            if x.validated != y.validated:
                what = "now validated" if y.validated else "now NOT VALID"
                self.add("changed", "constraint", name, f"{label} changed: {what}")
            self.fields("constraint", name, label, [("inherited", x.inherited, y.inherited)])
            self.comment(name, label, x.comment, y.comment)

    def indexes(self, table: str, a: list[Index], b: list[Index]) -> None:
        t = short(table)
        pairs, gone, new = self._pair(table, a, b, index_signature)
        for i in gone:
            self.add(
                "removed",
                "index",
                f"{table}.{i.name}",
                f"index {i.name} on {t} removed (was {describe_index(i)})",
            )
        for i in new:
            self.add(
                "added",
                "index",
                f"{table}.{i.name}",
                f"index {i.name} on {t} added: {describe_index(i)}",
            )
        for x, y in pairs:
            name = f"{table}.{x.name}"
            label = f"index {x.name} on {t}"
            if index_signature(x) != index_signature(y) or x.valid != y.valid:
                self.add(
                    "changed",
                    "index",
                    name,
                    f"{label} changed: {describe_index(x)} -> {describe_index(y)}",
                )
            if not self.ignore_names and x.constraint != y.constraint:
                self.fields("index", name, label, [("constraint", x.constraint, y.constraint)])
            self.comment(name, label, x.comment, y.comment)

    def triggers(self, table: str, a: list[Trigger], b: list[Trigger]) -> None:
        t = short(table)
        ta, tb = {x.name: x for x in a}, {x.name: x for x in b}
        for name in sorted(ta.keys() | tb.keys()):
            x, y = ta.get(name), tb.get(name)
            key = f"{table}.{name}"
            label = f"trigger {name} on {t}"
            if x is None:
                assert y is not None  # the key is one of a's or b's
                self.add("added", "trigger", key, f"{label} added: {y.definition}")
            elif y is None:
                self.add("removed", "trigger", key, f"{label} removed (was {x.definition})")
            else:
                if x.definition != y.definition:
                    self.add(
                        "changed",
                        "trigger",
                        key,
                        f"{label} changed: {x.definition} -> {y.definition}",
                    )
                self.fields(
                    "trigger",
                    key,
                    label,
                    [("enabled", x.enabled, y.enabled), ("inherited", x.inherited, y.inherited)],
                )
                self.comment(key, label, x.comment, y.comment)

    def policies(self, table: str, a: list[Policy], b: list[Policy]) -> None:
        t = short(table)
        pa, pb = {x.name: x for x in a}, {x.name: x for x in b}
        for name in sorted(pa.keys() | pb.keys()):
            x, y = pa.get(name), pb.get(name)
            key = f"{table}.{name}"
            label = f"policy {name} on {t}"
            if x is None:
                assert y is not None  # the key is one of a's or b's
                self.add(
                    "added", "policy", key, f"{label} added: for {y.command} using {_q(y.using)}"
                )
            elif y is None:
                self.add("removed", "policy", key, f"{label} removed")
            else:
                self.fields(
                    "policy",
                    key,
                    label,
                    [
                        ("command", x.command, y.command),
                        ("permissive", x.permissive, y.permissive),
                        ("roles", x.roles, y.roles),
                        ("using", x.using, y.using),
                        ("with check", x.with_check, y.with_check),
                    ],
                )
                self.comment(key, label, x.comment, y.comment)

    # ------------------------------------------------------------------ views
    def views(self, a: dict[str, View], b: dict[str, View]) -> None:
        for key in sorted(a.keys() | b.keys()):
            x, y = a.get(key), b.get(key)
            v = x or y
            assert v is not None  # the key is one of a's or b's
            kind = "materialized view" if v.materialized else "view"
            label = f"{kind} {short(key)}"
            if x is None:
                self.add("added", "view", key, f"{label} added")
                continue
            if y is None:
                self.add("removed", "view", key, f"{label} removed")
                continue
            if x.materialized != y.materialized:
                self.fields("view", key, label, [("materialized", x.materialized, y.materialized)])
            if x.definition != y.definition:
                self.add(
                    "changed",
                    "view",
                    key,
                    f"{label} changed: definition differs ({_first_difference(x.definition, y.definition)})",
                )
            self.fields(
                "view",
                key,
                label,
                [
                    ("options", x.options, y.options),
                    (
                        "columns",
                        [f"{c.name} {c.type}" for c in x.columns],
                        [f"{c.name} {c.type}" for c in y.columns],
                    ),
                ],
            )
            self.comment(key, label, x.comment, y.comment)
            for c, d in zip(x.columns, y.columns, strict=False):
                if c.name == d.name:
                    self.comment(
                        f"{key}.{c.name}", f"column {short(key)}.{c.name}", c.comment, d.comment
                    )
            self.indexes(key, x.indexes, y.indexes)
            self.triggers(key, x.triggers, y.triggers)

    # -------------------------------------------------------------- functions
    def functions(self, a: SchemaSnapshot, b: SchemaSnapshot) -> None:
        fa, fb = a.functions, b.functions
        for key in sorted(fa.keys() | fb.keys()):
            x, y = fa.get(key), fb.get(key)
            f = x or y
            assert f is not None  # the key is one of a's or b's
            label = f"{f.kind} {short(key)}"
            if x is None:
                assert y is not None  # the key is one of a's or b's
                returns = f" returns {y.returns}" if y.returns else ""
                self.add("added", "function", key, f"{label} added: {y.language}{returns}")
                continue
            if y is None:
                self.add("removed", "function", key, f"{label} removed")
                continue
            if x.definition != y.definition:
                self.add(
                    "changed",
                    "function",
                    key,
                    f"{label} changed: definition differs ({_first_difference(x.definition, y.definition)})",
                )
            self.comment(key, label, x.comment, y.comment)


# ------------------------------------------------------- meaning, not text
_RT_INDEX = "migagent_rt_index"
_RT_CHECK = "migagent_rt_check"


def canonical_expressions(conn, snap: SchemaSnapshot, *, rounds: int = 3) -> SchemaSnapshot:
    """A copy of `snap` whose index definitions and check constraints are in the form
    this server gives them when they are created again from their own deparsed text.

    The server's deparse is not a fixed point: `status IN ('a', 'b')` on a varchar
    comes back as `(status)::text = ANY ((ARRAY['a'::character varying, ...])::text[])`,
    and that text, copied into a migration, comes back as yet another spelling of the
    same predicate. Round-tripping every definition through the same server (until it
    stops changing) makes equivalent forms equal and leaves different ones different.
    `conn` is a scratch database holding the snapshot's tables (nothing is kept: every
    object is created and rolled back inside a savepoint). Objects whose table is not
    there, or that do not create, keep their text.
    """
    import psycopg

    out = snap.model_copy(deep=True)
    with conn.transaction():
        # the snapshot's deparse ran with search_path = pg_catalog (every name qualified)
        conn.execute("SET LOCAL search_path = pg_catalog")
        for table in out.tables.values():
            for ix in table.indexes:
                if ix.constraint or ix.primary or not ix.definition:
                    continue
                text = ix.definition
                for _ in range(rounds):
                    again = _round_trip_index(conn, psycopg, text)
                    if again is None or again[0] == text:
                        break
                    text, ix.predicate = again
                ix.definition = text
            for k in table.constraints:
                if k.kind != "check":
                    continue
                definition = k.definition
                for _ in range(rounds):
                    again = _round_trip_check(conn, psycopg, table.qualified_name, definition)
                    if again is None or again == definition:
                        break
                    definition = again
                k.definition = definition
    return out


def _round_trip_index(conn, psycopg, definition: str) -> tuple[str, str | None] | None:
    m = _INDEX_NAME.match(definition)
    if not m:
        return None
    name = definition[m.end(1) : m.start(2)].strip()
    sql = _INDEX_NAME.sub(lambda mm: f"{mm.group(1)}{_RT_INDEX} {mm.group(2)}", definition)
    try:
        with conn.transaction():
            conn.execute(sql)
            row = conn.execute(
                "SELECT pg_get_indexdef(i.indexrelid), pg_get_expr(i.indpred, i.indrelid)"
                " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " WHERE c.relname = %s",
                (_RT_INDEX,),
            ).fetchone()
            raise _Rollback(row)
    except _Rollback as done:
        row = done.value
    except psycopg.Error:
        return None
    if row is None:
        return None
    text = _INDEX_NAME.sub(lambda mm: f"{mm.group(1)}{name} {mm.group(2)}", row[0])
    return text, row[1]


def _round_trip_check(conn, psycopg, table: str, definition: str) -> str | None:
    from migagent.tools.sql import quote_qualified

    schema, _, bare = table.partition(".")
    not_valid = definition.endswith(" NOT VALID")
    body = definition[: -len(" NOT VALID")] if not_valid else definition
    try:
        with conn.transaction():
            conn.execute(
                f"ALTER TABLE {quote_qualified(schema, bare)} ADD CONSTRAINT {_RT_CHECK} {body} NOT VALID"
            )
            row = conn.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s",
                (_RT_CHECK,),
            ).fetchone()
            raise _Rollback(row)
    except _Rollback as done:
        row = done.value
    except psycopg.Error:
        return None
    if row is None:
        return None
    text = row[0][: -len(" NOT VALID")] if row[0].endswith(" NOT VALID") else row[0]
    return text + (" NOT VALID" if not_valid else "")


class _Rollback(Exception):
    """Leaves a savepoint by rolling it back, carrying what was read inside it."""

    def __init__(self, value) -> None:
        super().__init__("rollback")
        self.value = value
