"""The desired-schema path: `--desired desired.sql` or `--models pkg.module:Base`.

The desired schema is authoritative. It is loaded into a template database of
its own (the way Atlas normalises through a dev database) and snapshotted; the
one schema differ (`tools.introspect.diff.diff_snapshots`, names of indexes and
constraints matched by definition) says what differs from the current
snapshot, and every difference becomes plan operations, which go through the
same lowering as any backend's plan: extensions, enums, sequences (serial
columns own theirs), functions, tables (created, dropped), columns (type,
nullability, default), indexes (method, keys and expressions, opclasses,
INCLUDE, predicate, NULLS NOT DISTINCT), constraints, views and materialized
views (dropped and recreated around the column changes they depend on),
triggers, table and column comments. A difference it cannot migrate is named
in the refusal, never passed over.

The same differ proves the draft: the schema the upgrade leaves on the scratch
copy must equal the desired snapshot (`desired_mismatch`), with index and
check expressions compared as the server normalises them, so an equivalent
spelling matches and a change of meaning (a dropped NULLS NOT DISTINCT) fails.

A desired file that builds on tables it does not define (it does not load on
its own) is loaded over a copy of the current schema: the tables it does not
mention are then kept as they are. A file that loads on its own is the whole
schema: a table it does not define is dropped.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from typing import get_args

from migagent.agent import plan as P
from migagent.agent.errors import UnderstandingError
from migagent.errors import MigagentError, UsageError
from migagent.tools.introspect.diff import Change, canonical_expressions, diff_snapshots
from migagent.tools.introspect.model import (
    Column,
    Constraint,
    Function,
    Index,
    SchemaSnapshot,
    Sequence,
    Table,
    View,
)
from migagent.tools.sandbox import Sandbox
from migagent.tools.sql import quote_ident, quote_literal, quote_qualified

_CREATE_TABLE = re.compile(
    r"\bcreate\s+(?:unlogged\s+)?table\s+(?:if\s+not\s+exists\s+)?((?:\"?\w+\"?\.)?\"?\w+\"?)", re.I
)


@dataclass
class DesiredSchema:
    """The desired schema: its snapshot and the template it was loaded into."""

    snapshot: SchemaSnapshot
    template: str
    #: the desired file was loaded over the current schema (tables it omits are kept)
    partial: bool = False
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ loading
def load_desired(
    sandbox: Sandbox, current_template: str, *, desired_sql: str | None, models: str | None
) -> SchemaSnapshot:
    """Snapshot of the desired schema, loaded into a scratch database."""
    return load_desired_schema(
        sandbox, current_template, desired_sql=desired_sql, models=models
    ).snapshot


def load_desired_schema(
    sandbox: Sandbox, current_template: str, *, desired_sql: str | None, models: str | None
) -> DesiredSchema:
    if models:
        template = _models_template(sandbox, models)
        return DesiredSchema(_snapshot_of(sandbox, template), template)
    assert desired_sql is not None
    partial = False
    try:
        template = sandbox.template_from_sql(desired_sql, source="desired schema")
    except MigagentError as first:
        # it may build on tables it does not define: load it over a copy of the current schema
        names = [m.group(1).replace('"', "") for m in _CREATE_TABLE.finditer(desired_sql)]
        drops = "".join(f"DROP TABLE IF EXISTS {n} CASCADE;\n" for n in names)

        def build(url: str) -> None:
            sandbox.load_sql(url, drops + desired_sql, source="desired schema")

        try:
            template = sandbox.build_template(
                f"desired-over\0{current_template}\0{desired_sql}", build, base=current_template
            )
        except MigagentError:
            raise first from None
        partial = True
    return DesiredSchema(_snapshot_of(sandbox, template), template, partial=partial)


def _snapshot_of(sandbox: Sandbox, template: str) -> SchemaSnapshot:
    from migagent.tools.introspect import snapshot

    with sandbox.scratch(template) as db, db.connect() as conn:
        return snapshot(conn)


def _models_template(sandbox: Sandbox, spec: str) -> str:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise UsageError(
            f"--models {spec!r} is not package.module:Base", "e.g. --models app.models:Base"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(
            f"cannot import {module_name}: {exc}", "run from the project root or fix PYTHONPATH"
        ) from None
    obj = getattr(module, attr, None)
    metadata = getattr(obj, "metadata", obj)
    if metadata is None or not hasattr(metadata, "create_all"):
        raise UsageError(
            f"{spec} is not a declarative Base or MetaData", "point --models at Base or metadata"
        )
    import sqlalchemy as sa
    from sqlalchemy.exc import SQLAlchemyError

    schemas = sorted({t.schema for t in metadata.tables.values() if t.schema})
    ddl: list[str] = [f'CREATE SCHEMA IF NOT EXISTS "{s}"' for s in schemas]

    def collect(sql, *_args, **_kw):
        ddl.append(str(sql.compile(dialect=engine.dialect)))

    engine = sa.create_mock_engine("postgresql+psycopg://", collect)
    try:
        metadata.create_all(engine, checkfirst=False)
    except SQLAlchemyError as exc:
        raise UsageError(
            f"the models do not compile for PostgreSQL: {str(exc).splitlines()[0]}"
        ) from None
    script = ";\n".join(s.strip() for s in ddl if s.strip()) + ";\n"
    try:
        return sandbox.template_from_sql(script, source=f"--models {spec}")
    except MigagentError as exc:
        raise UsageError(f"the models do not create on PostgreSQL: {exc}") from None


# ------------------------------------------------------------------ planning
def plan_from_desired(
    request: str,
    facts: P.Facts,
    sandbox: Sandbox,
    *,
    desired_sql: str | None = None,
    models: str | None = None,
    current_template: str | None = None,
) -> P.DraftPlan:
    return plan_desired(
        request,
        facts,
        sandbox,
        desired_sql=desired_sql,
        models=models,
        current_template=current_template,
    )[0]


def plan_desired(
    request: str,
    facts: P.Facts,
    sandbox: Sandbox,
    *,
    desired_sql: str | None = None,
    models: str | None = None,
    current_template: str | None = None,
) -> tuple[P.DraftPlan, DesiredSchema]:
    """The plan, and the desired schema the draft's upgrade must reproduce."""
    want = load_desired_schema(
        sandbox, current_template or "template0", desired_sql=desired_sql, models=models
    )
    current = facts.snapshot
    desired = _canonical(sandbox, want.template, want.snapshot)
    if current_template:
        current = _canonical(sandbox, current_template, current)
    plan = diff_to_plan(request, current, desired, facts=facts)
    return plan, want


def _canonical(sandbox: Sandbox, template: str, snap: SchemaSnapshot) -> SchemaSnapshot:
    with sandbox.scratch(template) as db, db.connect() as conn:
        return canonical_expressions(conn, snap)


def desired_changes(current: SchemaSnapshot, desired: SchemaSnapshot) -> list[Change]:
    """Every difference from `current` to `desired` that matters, by the one differ.

    Index and constraint names are matched by definition (a desired file's names
    are used for what is created). Left out: an extension the desired file does
    not create (it is kept), and the order of existing columns (a column can only
    be added last; the note says so).
    """
    return [c for c in diff_snapshots(current, desired, ignore_names=True).changes if _counts(c)]


def _counts(c: Change) -> bool:
    if c.object_type == "extension" and c.kind == "removed":
        return False
    if c.name.split(".")[1:2] == ["alembic_version"]:
        return False  # Alembic's own table: never the desired schema's business
    return not (c.object_type == "table" and "column order" in c.detail)


def desired_mismatch(
    sandbox: Sandbox, want: DesiredSchema | SchemaSnapshot, after: SchemaSnapshot
) -> list[str]:
    """How the schema an upgrade left (`after`) differs from the desired schema: [] when
    it reproduces it. Expressions are compared as the server normalises them."""
    if isinstance(want, SchemaSnapshot):
        return [c.detail for c in desired_changes(after, want)]
    desired = _canonical(sandbox, want.template, want.snapshot)
    got = _canonical(sandbox, want.template, after)
    return [c.detail for c in desired_changes(got, desired)]


# ------------------------------------------------------------------ diff -> operations
@dataclass
class _Plan:
    current: SchemaSnapshot
    desired: SchemaSnapshot
    head: list = field(default_factory=list)  # extensions, enums, sequences, functions
    drop_early: list = field(default_factory=list)  # views, triggers
    tables: list = field(default_factory=list)
    owned: list = field(default_factory=list)  # ALTER SEQUENCE ... OWNED BY
    drop_columns: list = field(default_factory=list)
    drop_tables: list = field(default_factory=list)
    late: list = field(default_factory=list)  # views, sql functions, triggers, comments
    drop_late: list = field(default_factory=list)  # functions, enums, sequences
    cats: list[str] = field(default_factory=lambda: ["desired_schema"])
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    enum_tables: set[str] = field(default_factory=set)  # see _enum_tables

    def ops(self) -> list:
        return [
            *self.drop_early,  # dependants go first: nothing dropped here is needed by `head`
            *self.head,
            *self.tables,
            *self.owned,
            *self.drop_columns,
            *self.drop_tables,
            *self.late,
            *self.drop_late,
        ]


def diff_to_plan(
    request: str, current: SchemaSnapshot, desired: SchemaSnapshot, *, facts: P.Facts | None = None
) -> P.DraftPlan:
    changes = desired_changes(current, desired)
    if not changes:
        raise UnderstandingError(
            "the desired schema is the same as the current one: nothing to migrate"
        )
    p = _Plan(current, desired)
    by_type: dict[str, list[Change]] = {}
    for c in changes:
        by_type.setdefault(c.object_type, []).append(c)
    for schema in desired.schemas:
        if schema not in current.schemas and any(
            c.name.startswith(schema + ".") for c in changes if c.kind == "added"
        ):
            p.head.append(
                P.RawSQL(
                    upgrade=f"CREATE SCHEMA {quote_ident(schema)}",
                    downgrade=f"DROP SCHEMA {quote_ident(schema)}",
                )
            )
    p.enum_tables = _enum_tables(p, by_type)
    _extensions(p, by_type.pop("extension", []))
    _enums(p, by_type.pop("enum", []))
    _types(p, by_type.pop("domain", []), by_type.pop("type", []))
    views = _views(p, by_type.pop("view", []), by_type)
    _functions(p, by_type.pop("function", []))
    _sequences(p, by_type.pop("sequence", []))
    _tables(p, by_type, views)
    _triggers(p, by_type.pop("trigger", []), views)
    _policies(p, by_type.pop("policy", []), by_type)
    _comments(p, by_type.pop("comment", []), views)
    for rest in by_type.values():
        p.unsupported.extend(c.detail for c in rest)
    if p.unsupported:
        raise UnderstandingError(
            "the desired schema differs in ways the desired-schema path cannot migrate yet: "
            + "; ".join(dict.fromkeys(p.unsupported))
            + " (write these by hand, or use --backend claude)"
        )
    ops = p.ops()
    order = [
        c.detail
        for c in diff_snapshots(current, desired, ignore_names=True).changes
        if c.object_type == "table" and "column order" in c.detail
    ]
    p.notes.extend(
        f"{d} is not reproduced: columns are added last (the column order is all that differs)"
        for d in order
    )
    tables = sorted({t.split(".")[-1] for op in ops for t in op.tables() if t})
    intent = (
        f"Match the desired schema for {', '.join(tables)}"
        if tables
        else "Match the desired schema"
    )
    slug = "match_desired_" + "_".join(tables)[:40]
    return P.DraftPlan(
        intent=intent,
        slug=slug.rstrip("_"),
        operations=ops,
        assumptions=p.notes,
        warnings=p.warnings,
        categories=list(dict.fromkeys(p.cats)),
        backend="desired",
    )


# ---------------------------------------------------------------- each kind
def _restore_comment(what: str, comment: str) -> P.RawSQL:
    """Nothing on upgrade; the downgrade puts the comment back (placed before the drop)."""
    return P.RawSQL(upgrade="", downgrade=f"COMMENT ON {what} IS {quote_literal(comment)}")


def _pairs(upgrade: list[str], downgrade: list[str]) -> list[P.RawSQL]:
    """Statements one per operation (a driver may refuse several in one execute): the
    upgrade runs `upgrade` in order, the downgrade runs `downgrade` in order."""
    n = max(len(upgrade), len(downgrade))
    return [
        P.RawSQL(
            upgrade=upgrade[i] if i < len(upgrade) else "",
            downgrade=downgrade[n - 1 - i] if n - 1 - i < len(downgrade) else "",
        )
        for i in range(n)
    ]


def _extensions(p: _Plan, changes: list[Change]) -> None:
    for c in changes:
        if c.kind == "added" and c.name not in p.desired.stand_ins:
            p.head.append(P.CreateExtension(name=p.desired.extensions[c.name].name))
            p.cats.append("extension")
        elif c.kind == "added":
            continue
        else:
            p.unsupported.append(c.detail)


def _enums(p: _Plan, changes: list[Change]) -> None:
    for c in changes:
        # the differ reports an added enum in desired, a removed one in current, a change in both
        if c.kind == "added":
            e = p.desired.enums[c.name]
            ename = _enum_name(e)
            p.head.append(P.CreateEnum(name=ename, labels=e.labels))
            if e.comment is not None:
                what = f"TYPE {quote_qualified(e.schema_name, e.name)}"
                p.head.append(
                    P.RawSQL(
                        upgrade=f"COMMENT ON {what} IS {quote_literal(e.comment)}",
                        downgrade=f"COMMENT ON {what} IS NULL",
                    )
                )
            p.cats.append("enum")
        elif c.kind == "removed":
            have = p.current.enums[c.name]
            if have.comment is not None:  # the downgrade puts it back after the type
                what = f"TYPE {quote_qualified(have.schema_name, have.name)}"
                p.drop_late.append(_restore_comment(what, have.comment))
            p.drop_late.append(P.DropEnum(name=_enum_name(have)))
            p.cats.append("enum")
        elif "labels" in c.detail:
            e, have = p.desired.enums[c.name], p.current.enums[c.name]
            ename = _enum_name(e)
            missing = [v for v in e.labels if v not in have.labels]
            kept = [v for v in e.labels if v in have.labels]
            if [v for v in have.labels if v not in e.labels] or kept != [
                v for v in have.labels if v in e.labels
            ]:
                p.unsupported.append(f"{c.detail} (removing or reordering enum values)")
                continue
            if have.comment is not None and missing:  # the downgrade recreates the type
                what = f"TYPE {quote_qualified(have.schema_name, have.name)}"
                p.head.append(_restore_comment(what, have.comment))
            for v in missing:
                i = e.labels.index(v)
                after = e.labels[i - 1] if i > 0 else None
                before = e.labels[i + 1] if after is None and i + 1 < len(e.labels) else None
                p.head.append(P.AddEnumValue(name=ename, value=v, after=after, before=before))
            p.cats.append("enum")
        else:
            p.unsupported.append(c.detail)


def _types(p: _Plan, domains: list[Change], composites: list[Change]) -> None:
    """Domains and composite types: created before the tables, dropped after them."""
    for c in domains:
        if c.kind == "added":
            want = p.desired.domains[c.name]
            p.head.append(P.RawSQL(upgrade=_domain_sql(want), downgrade=_drop_type(want, "DOMAIN")))
        elif c.kind == "removed":
            have = p.current.domains[c.name]
            if have.comment is not None:
                what = f"DOMAIN {quote_qualified(have.schema_name, have.name)}"
                p.drop_late.append(_restore_comment(what, have.comment))
            p.drop_late.append(
                P.RawSQL(upgrade=_drop_type(have, "DOMAIN"), downgrade=_domain_sql(have))
            )
        else:
            p.unsupported.append(c.detail)
            continue
        p.cats.append("domain")
    for c in composites:
        if c.kind == "added":
            want = p.desired.composite_types[c.name]
            p.head.append(
                P.RawSQL(upgrade=_composite_sql(want), downgrade=_drop_type(want, "TYPE"))
            )
        elif c.kind == "removed":
            have = p.current.composite_types[c.name]
            p.drop_late.append(
                P.RawSQL(upgrade=_drop_type(have, "TYPE"), downgrade=_composite_sql(have))
            )
        else:
            p.unsupported.append(c.detail)
            continue
        p.cats.append("type")


def _drop_type(t, kind: str) -> str:
    return f"DROP {kind} {quote_qualified(t.schema_name, t.name)}"


def _domain_sql(d) -> str:
    sql = f"CREATE DOMAIN {quote_qualified(d.schema_name, d.name)} AS {d.base_type}"
    if d.default is not None:
        sql += f" DEFAULT {d.default}"
    if not d.nullable:
        sql += " NOT NULL"
    return " ".join([sql, *d.checks])


def _composite_sql(t) -> str:
    attrs = ", ".join(f"{quote_ident(n)} {ty}" for n, ty in t.attributes)
    return f"CREATE TYPE {quote_qualified(t.schema_name, t.name)} AS ({attrs})"


def _enum_name(e) -> str:
    return e.name if e.schema_name == "public" else f"{e.schema_name}.{e.name}"


def _seq_sql(s: Sequence, verb: str = "CREATE") -> str:
    return (
        f"{verb} SEQUENCE {quote_qualified(s.schema_name, s.name)} AS {s.data_type} "
        f"INCREMENT BY {s.increment} MINVALUE {s.min_value} MAXVALUE {s.max_value} "
        f"START WITH {s.start} CACHE {s.cache} {'CYCLE' if s.cycle else 'NO CYCLE'}"
    )


def _owned_sql(s: Sequence, owner: str | None) -> str:
    target = "NONE"
    if owner:
        schema, table, column = owner.split(".", 2)
        target = f"{quote_qualified(schema, table)}.{quote_ident(column)}"
    return f"ALTER SEQUENCE {quote_qualified(s.schema_name, s.name)} OWNED BY {target}"


def _sequences(p: _Plan, changes: list[Change]) -> None:
    for c in changes:
        if c.kind == "added":
            want = p.desired.sequences[c.name]
            p.head.append(
                P.RawSQL(
                    upgrade=_seq_sql(want),
                    downgrade=f"DROP SEQUENCE {quote_qualified(want.schema_name, want.name)}",
                )
            )
            if want.owned_by:
                p.owned.append(
                    P.RawSQL(
                        upgrade=_owned_sql(want, want.owned_by), downgrade=_owned_sql(want, None)
                    )
                )
            p.cats.append("sequence")
        elif c.kind == "removed":
            have = p.current.sequences[c.name]
            if have.owned_by and have.owned_by.rsplit(".", 1)[0] not in p.desired.tables:
                continue  # goes with its table
            if have.owned_by and not _column_kept(p, have.owned_by):
                continue  # goes with its column
            drop = f"DROP SEQUENCE {quote_qualified(have.schema_name, have.name)}"
            down = [_seq_sql(have)] + ([_owned_sql(have, have.owned_by)] if have.owned_by else [])
            p.drop_late.extend(_pairs([drop], down))
            p.cats.append("sequence")
        elif "changed: owned by" in c.detail:
            want, have = p.desired.sequences[c.name], p.current.sequences[c.name]
            p.owned.append(
                P.RawSQL(
                    upgrade=_owned_sql(want, want.owned_by),
                    downgrade=_owned_sql(have, have.owned_by),
                )
            )
        elif "changed: " in c.detail and c.kind == "changed":
            want, have = p.desired.sequences[c.name], p.current.sequences[c.name]
            p.head.append(
                P.RawSQL(upgrade=_seq_sql(want, "ALTER"), downgrade=_seq_sql(have, "ALTER"))
            )
        else:
            p.unsupported.append(c.detail)


def _column_kept(p: _Plan, owner: str) -> bool:
    table, _, column = owner.rpartition(".")
    t = p.desired.tables.get(table)
    return t is not None and t.column(column) is not None


def _drop_function_sql(f: Function) -> str:
    kind = {"procedure": "PROCEDURE", "aggregate": "AGGREGATE"}.get(f.kind, "FUNCTION")
    return f"DROP {kind} {quote_qualified(f.schema_name, f.name)}({f.identity_args})"


def _late_function(f: Function) -> bool:
    """SQL-language bodies are checked against the tables when created: after the tables."""
    return f.language == "sql" or f.sql_body


def _functions(p: _Plan, changes: list[Change]) -> None:
    for c in changes:
        if c.kind == "added":
            want = p.desired.functions[c.name]
            op = P.RawSQL(upgrade=want.definition, downgrade=_drop_function_sql(want))
            (p.late if _late_function(want) else p.head).append(op)
            if want.comment is not None:
                kind = {"procedure": "PROCEDURE", "aggregate": "AGGREGATE"}.get(want.kind)
                what = f"{kind or 'FUNCTION'} {_drop_function_sql(want).split(' ', 2)[2]}"
                p.late.append(
                    P.RawSQL(
                        upgrade=f"COMMENT ON {what} IS {quote_literal(want.comment)}",
                        downgrade=f"COMMENT ON {what} IS NULL",
                    )
                )
            p.cats.append("function")
        elif c.kind == "removed":
            have = p.current.functions[c.name]
            op = P.RawSQL(upgrade=_drop_function_sql(have), downgrade=have.definition)
            # one that returns or takes a dropped table's row type goes before the table
            gone = {k.split(".", 1)[1] for k in p.current.tables if k not in p.desired.tables}
            words = set(re.findall(r"\w+", f"{have.returns or ''} {have.identity_args}"))
            # (a SQL-standard body depends on the tables it reads: dropped first too)
            where = p.drop_early if words & gone or have.sql_body else p.drop_late
            if have.comment is not None:
                kind = {"procedure": "PROCEDURE", "aggregate": "AGGREGATE"}.get(have.kind)
                what = f"{kind or 'FUNCTION'} {_drop_function_sql(have).split(' ', 2)[2]}"
                where.append(_restore_comment(what, have.comment))
            where.append(op)
            p.cats.append("function")
        elif "definition" in c.detail:
            want, have = p.desired.functions[c.name], p.current.functions[c.name]
            if (have.returns, have.kind) != (want.returns, want.kind):
                p.drop_early.append(
                    P.RawSQL(upgrade=_drop_function_sql(have), downgrade=have.definition)
                )
                p.late.append(P.RawSQL(upgrade=want.definition, downgrade=_drop_function_sql(want)))
            else:
                op = P.RawSQL(upgrade=want.definition, downgrade=have.definition)
                (p.late if _late_function(want) else p.head).append(op)
            p.cats.append("function")
        else:
            p.unsupported.append(c.detail)


def _view_sql(v: View) -> list[str]:
    kind = "MATERIALIZED VIEW" if v.materialized else "VIEW"
    opts = f" WITH ({', '.join(v.options)})" if v.options else ""
    name = quote_qualified(v.schema_name, v.name)
    out = [f"CREATE {kind} {name}{opts} AS {v.definition.rstrip().rstrip(';')}"]
    out += [ix.definition for ix in v.indexes]
    out += [t.definition for t in v.triggers]
    if v.comment is not None:
        out.append(f"COMMENT ON {kind} {name} IS {quote_literal(v.comment)}")
    for col in v.columns:
        if col.comment is not None:
            out.append(
                f"COMMENT ON COLUMN {name}.{quote_ident(col.name)} IS {quote_literal(col.comment)}"
            )
    return out


def _drop_view_sql(v: View) -> str:
    kind = "MATERIALIZED VIEW" if v.materialized else "VIEW"
    return f"DROP {kind} {quote_qualified(v.schema_name, v.name)}"


def _views(p: _Plan, changes: list[Change], by_type: dict[str, list[Change]]) -> set[str]:
    """Views dropped before the table changes and created after them: the changed ones,
    and every view that reads a table whose columns change (or a view that is recreated)."""
    changed = {c.name for c in changes if c.kind == "changed"}
    for kind in ("index", "trigger"):  # on a view: the view is recreated whole
        for c in by_type.get(kind, []):
            holder = next(
                (v for v in p.current.views if c.name == v or c.name.startswith(v + ".")), None
            )
            if holder is not None and holder in p.desired.views:
                changed.add(holder)
    added = {c.name for c in changes if c.kind == "added"}
    removed = {c.name for c in changes if c.kind == "removed"}
    touched_tables = {
        c.name.rsplit(".", 1)[0]
        for c in by_type.get("column", [])
        if c.kind in ("removed", "changed")
    } | {c.name for c in by_type.get("table", []) if c.kind == "removed"}
    touched_tables |= p.enum_tables
    recreate = set(changed)
    grew = True
    while grew:
        grew = False
        for key, v in p.current.views.items():
            if key in recreate or key in removed or key not in p.desired.views:
                continue
            if set(v.depends_on) & (touched_tables | recreate | removed):
                recreate.add(key)
                grew = True
    for key in _view_order(p.current.views, recreate | removed, reverse=True):
        v = p.current.views[key]
        p.drop_early.extend(_pairs([_drop_view_sql(v)], _view_sql(v)))
    for key in _view_order(p.desired.views, recreate | added):
        v = p.desired.views[key]
        p.late.extend(_pairs(_view_sql(v), [_drop_view_sql(v)]))
    if recreate | added | removed:
        p.cats.append("view")
    return recreate | removed


def _enum_tables(p: _Plan, by_type: dict[str, list[Change]]) -> set[str]:
    """Tables with a column of an enum whose values change: the enum's downgrade alters
    those columns' type, which no view or policy over them may watch."""
    changed = {
        c.name for c in by_type.get("enum", []) if c.kind == "changed" and "labels" in c.detail
    }
    names = set()
    for key in changed:
        e = p.current.enums.get(key)
        if e is not None:
            names |= {key, e.name, quote_qualified(e.schema_name, e.name)}
    return {
        k
        for k, t in p.current.tables.items()
        if k in p.desired.tables and any(c.type in names for c in t.columns)
    }


def _view_order(views: dict[str, View], keys: set[str], *, reverse: bool = False) -> list[str]:
    """Views that others read first (or last, to drop)."""
    done: list[str] = []
    pending = sorted(keys)
    while pending:
        for key in list(pending):
            if not set(views[key].depends_on) & (set(pending) - {key}):
                done.append(key)
                pending.remove(key)
                break
        else:
            done.extend(pending)
            break
    return done[::-1] if reverse else done


def _triggers(p: _Plan, changes: list[Change], views: set[str]) -> None:
    def find(snap: SchemaSnapshot, key: str):
        table, _, name = key.rpartition(".")
        holder = snap.tables.get(table) or snap.views.get(table)
        return table, next((t for t in holder.triggers if t.name == name), None) if holder else None

    for c in changes:
        table, have = find(p.current, c.name)
        _, want = find(p.desired, c.name)
        schema, _, bare = table.partition(".")
        on = f"{quote_ident(c.name.rpartition('.')[2])} ON {quote_qualified(schema, bare)}"
        if c.kind in ("removed", "changed") and have is not None:
            gone = table not in p.desired.tables and table not in p.desired.views
            if not gone and table not in views:  # a dropped view takes its triggers
                p.drop_early.append(
                    P.RawSQL(upgrade=f"DROP TRIGGER {on}", downgrade=have.definition)
                )
        if c.kind in ("added", "changed") and want is not None:
            if table in views or table not in p.current.tables | p.current.views:
                continue  # created with its (re)created view
            p.late.append(P.RawSQL(upgrade=want.definition, downgrade=f"DROP TRIGGER {on}"))
        if c.kind == "changed" and want is not None and have is not None and "enabled" in c.detail:
            p.unsupported.append(c.detail)
        p.cats.append("trigger")


def _policies(p: _Plan, changes: list[Change], by_type: dict[str, list[Change]]) -> None:
    """Policies on tables that stay: created, dropped, or dropped and created again (also
    the unchanged ones on a table whose enum column's type the downgrade alters)."""
    done: set[str] = set()
    keys = [c.name for c in changes]
    for table in sorted(p.enum_tables):
        keys += [f"{table}.{x.name}" for x in p.current.tables[table].policies]
    for c in [_Key(k) for k in keys]:
        if c.name in done:
            continue
        done.add(c.name)
        table, _, pname = c.name.rpartition(".")
        schema, _, bare = table.partition(".")
        name = quote_qualified(schema, bare)
        have_t, want_t = p.current.tables.get(table), p.desired.tables.get(table)
        have = next((x for x in have_t.policies if x.name == pname), None) if have_t else None
        want = next((x for x in want_t.policies if x.name == pname), None) if want_t else None
        if have is not None:
            p.drop_early.append(
                P.RawSQL(upgrade=_drop_policy(name, have), downgrade=_policy_sql(name, have))
            )
        if want is not None:
            p.late.append(
                P.RawSQL(upgrade=_policy_sql(name, want), downgrade=_drop_policy(name, want))
            )
        p.cats.append("policy")


@dataclass
class _Key:
    name: str


def _comments(p: _Plan, changes: list[Change], views: set[str]) -> None:
    for c in changes:
        if any(c.name == v or c.name.startswith(v + ".") for v in views):
            continue  # the recreated view carries its comments
        target = _comment_target(p, c.name)
        if target is None:
            p.unsupported.append(c.detail)
            continue
        what, old, new = target
        value = lambda v: "NULL" if v is None else quote_literal(v)  # noqa: E731
        p.late.append(
            P.RawSQL(
                upgrade=f"COMMENT ON {what} IS {value(new)}",
                downgrade=f"COMMENT ON {what} IS {value(old)}",
            )
        )
        p.cats.append("comment")


def _comment_target(p: _Plan, key: str):
    for snap_key, v in p.desired.views.items():
        kind = "MATERIALIZED VIEW" if v.materialized else "VIEW"
        old = p.current.views.get(snap_key)
        if old is None:
            continue
        name = quote_qualified(v.schema_name, v.name)
        if key == snap_key:
            return f"{kind} {name}", old.comment, v.comment
        if key.startswith(snap_key + "."):
            col = key[len(snap_key) + 1 :]
            new_c = next((c for c in v.columns if c.name == col), None)
            old_c = next((c for c in old.columns if c.name == col), None)
            if new_c is not None:
                return (
                    f"COLUMN {name}.{quote_ident(col)}",
                    old_c.comment if old_c else None,
                    new_c.comment,
                )
    if key in p.desired.tables and key in p.current.tables:
        schema, _, name = key.partition(".")
        return (
            f"TABLE {quote_qualified(schema, name)}",
            p.current.tables[key].comment,
            p.desired.tables[key].comment,
        )
    table, _, column = key.rpartition(".")
    want, have = p.desired.tables.get(table), p.current.tables.get(table)
    w = want.column(column) if want is not None else None
    if w is not None:
        schema, _, name = table.partition(".")
        h = have.column(column) if have is not None else None
        return (
            f"COLUMN {quote_qualified(schema, name)}.{quote_ident(column)}",
            h.comment if h is not None else None,
            w.comment,
        )
    return None


# ------------------------------------------------------------------ tables
def _tables(p: _Plan, by_type: dict[str, list[Change]], views: set[str]) -> None:
    table_changes = by_type.pop("table", [])
    columns = by_type.pop("column", [])
    constraints = by_type.pop("constraint", [])
    indexes = by_type.pop("index", [])
    new = {c.name for c in table_changes if c.kind == "added"}
    gone = {c.name for c in table_changes if c.kind == "removed"}
    for c in table_changes:
        if c.kind != "changed":
            continue
        want = p.desired.tables[c.name]
        schema, _, bare = c.name.partition(".")
        if "changed: row level security" in c.detail:
            p.late.append(_rls_op(quote_qualified(schema, bare), "ENABLE", want.rls_enabled))
        elif "changed: forced row level security" in c.detail:
            p.late.append(_rls_op(quote_qualified(schema, bare), "FORCE", want.rls_forced))
        else:
            p.unsupported.append(c.detail)
    enums = {e.name for e in p.desired.enums.values()} | set(p.desired.enums)
    special = [k for k in sorted(new) if _special(p.desired.tables[k], enums)]
    for t in _fk_order([p.desired.tables[k] for k in sorted(new)]):
        special_ = t.qualified_name in special
        p.tables.extend(_create_raw_table(t) if special_ else _create_table(t))
        p.cats.append("create_table")
    for t in [p.desired.tables[k] for k in sorted(new)]:
        p.late.extend(_new_table_extras(t))
    # changes on tables that stay
    per_table: dict[str, list[Change]] = {}
    for c in [*columns, *constraints, *indexes]:
        table = c.name.rsplit(".", 1)[0]
        if table in new or table in gone or table in views:
            continue  # created, dropped, or a view dropped and recreated whole
        if table not in p.current.tables or table not in p.desired.tables:
            p.unsupported.append(c.detail)
            continue
        per_table.setdefault(table, []).append(c)
    for table in sorted(per_table):
        _alter_table(p, table, per_table[table])
    for t in reversed(_fk_order([p.current.tables[k] for k in sorted(gone)])):
        if t.partition_of in gone:  # goes with its parent; the downgrade recreates it after
            p.drop_tables.extend(
                P.RawSQL(upgrade="", downgrade=op.downgrade) for op in _drop_table(p, t)
            )
            continue
        p.drop_tables.extend(_drop_table(p, t))
        p.warnings.append(
            f"table {t.name} is not in the desired schema, so it is dropped with its rows "
            "(the downgrade recreates it empty): a desired file that loads on its own is the "
            f"whole schema; to keep {t.name}, include its CREATE TABLE"
        )
        p.cats.append("drop_table")


def _special(t: Table, enums: set[str]) -> bool:
    """A table `op.create_table` cannot write: partitioned, a partition, INHERITS, UNLOGGED,
    storage options, a collation, or a column type SQLAlchemy has no name for (a domain)."""
    from migagent.agent.satypes import sa_type

    return bool(
        t.partition_of
        or t.kind == "partitioned"
        or t.inherits
        or t.persistence != "permanent"
        or t.options
        or any(c.collation or sa_type(c.type, enums) is None for c in t.columns)
    )


def _create_raw_table(t: Table) -> list:
    """CREATE TABLE as SQL, with what `op.create_table` cannot say."""
    stmts = _table_sql(t)
    name = quote_qualified(t.schema_name, t.name)
    ops: list = [P.RawSQL(upgrade=stmts[0], downgrade=f"DROP TABLE {name}", table=t.qualified_name)]
    return ops + [P.RawSQL(upgrade=x, downgrade="", table=t.qualified_name) for x in stmts[1:]]


def _drop_table(p: _Plan, t: Table) -> list:
    """DROP TABLE, and a downgrade that recreates it exactly (empty): owned sequences with
    their parameters, the table with everything `_table_sql` says, then its triggers,
    policies, comments and sequence ownership."""
    owned = [
        s
        for s in p.current.sequences.values()
        if s.owned_by and s.owned_by.rsplit(".", 1)[0] == t.qualified_name
    ]
    after = [x.upgrade for x in _new_table_extras(t)] + [_owned_sql(s, s.owned_by) for s in owned]
    down = [_seq_sql(s) for s in owned] + _table_sql(t) + after
    return _pairs([f"DROP TABLE {quote_qualified(t.schema_name, t.name)}"], down)


def _table_sql(t: Table) -> list[str]:
    """A table as SQL statements: CREATE TABLE, then its foreign keys and indexes."""
    name = quote_qualified(t.schema_name, t.name)
    items = []
    if not t.partition_of:
        for c in sorted(t.columns, key=lambda c: c.position):
            if c.inherited:
                continue
            parts = [quote_ident(c.name), c.type]
            if c.collation:
                parts.append(f"COLLATE {c.collation}")
            if c.generated:
                parts.append(
                    f"GENERATED ALWAYS AS ({c.generated}) {(c.generated_kind or 'stored').upper()}"
                )
            elif c.identity:
                parts.append(f"GENERATED {c.identity.upper()} AS IDENTITY")
            elif c.default is not None:
                parts.append(f"DEFAULT {c.default}")
            if not c.nullable:
                parts.append("NOT NULL")
            items.append(" ".join(parts))
    later: list = []
    for k in t.constraints:
        if k.inherited or k.kind == "not_null":
            continue
        if k.kind == "foreign_key":
            later.append(f"ALTER TABLE {name} ADD CONSTRAINT {quote_ident(k.name)} {k.definition}")
        else:
            items.append(f"CONSTRAINT {quote_ident(k.name)} {k.definition}")
    head = "CREATE " + ("UNLOGGED " if t.persistence == "unlogged" else "") + f"TABLE {name}"
    if t.partition_of:
        schema, _, parent = t.partition_of.partition(".")
        body = f" ({', '.join(items)})" if items else ""
        sql = f"{head} PARTITION OF {quote_qualified(schema, parent)}{body} {t.partition_bound}"
    else:
        sql = f"{head} ({', '.join(items)})"
        if t.inherits:
            sql += (
                " INHERITS ("
                + ", ".join(quote_qualified(*i.split(".", 1)) for i in t.inherits)
                + ")"
            )
    if t.partition_key:
        sql += f" PARTITION BY {t.partition_key}"
    if t.options:
        sql += f" WITH ({', '.join(t.options)})"
    out = [sql, *later]
    for ix in t.indexes:
        if ix.constraint or ix.primary or ix.parent:
            continue
        out.append(ix.definition.replace(" ON ONLY ", " ON ", 1))
    return out


def _alter_table(p: _Plan, key: str, changes: list[Change]) -> None:
    have, want = p.current.tables[key], p.desired.tables[key]
    ops: list = []
    for c in changes:
        if c.object_type != "column":
            continue
        col = c.name.rsplit(".", 1)[1]
        if c.kind == "added":
            w = _reported_column(want, col)
            ops.append(
                P.AddColumn(
                    table=key,
                    column=P.ColumnDef(
                        name=w.name,
                        type=w.type,
                        nullable=w.nullable,
                        default=w.default,
                        generated=w.generated,
                        generated_kind=w.generated_kind,
                        identity=w.identity,
                    ),
                )
            )
            p.cats.append("add_column")
            if w.comment is not None:
                schema, _, name = key.partition(".")
                target = f"{quote_qualified(schema, name)}.{quote_ident(col)}"
                p.late.append(
                    P.RawSQL(
                        upgrade=f"COMMENT ON COLUMN {target} IS {quote_literal(w.comment)}",
                        downgrade=f"COMMENT ON COLUMN {target} IS NULL",
                        table=key,
                    )
                )
        elif c.kind == "removed":
            p.drop_columns.append(P.DropColumn(table=key, column=col))
            p.cats.append("drop_column")
    done: set[str] = set()
    for c in changes:
        if c.object_type != "column" or c.kind != "changed" or c.name in done:
            continue
        done.add(c.name)
        col = c.name.rsplit(".", 1)[1]
        h, w = _reported_column(have, col), _reported_column(want, col)
        if (h.generated or None) != (w.generated or None) or h.identity != w.identity:
            p.unsupported.append(f"the generated/identity definition of {have.name}.{col} changes")
            continue
        if h.collation != w.collation or h.generated_kind != w.generated_kind:
            p.unsupported.append(f"the collation of {have.name}.{col} changes")
            continue
        if h.type != w.type:
            ops.append(P.AlterColumnType(table=key, column=col, new_type=w.type))
            p.cats.append("type_change")
        if (h.default or None) != (w.default or None) and not w.identity:
            ops.append(P.SetDefault(table=key, column=col, default=w.default))
            p.cats.append("default")
        if h.nullable and not w.nullable:
            ops.append(P.SetNotNull(table=key, column=col))
            p.cats.append("not_null")
        elif not h.nullable and w.nullable:
            ops.append(P.DropNotNull(table=key, column=col))
    have_cons = {k.name: k for k in have.constraints}
    want_cons = {k.name: k for k in want.constraints}
    have_ix = {i.name: i for i in have.indexes}
    want_ix = {i.name: i for i in want.indexes}
    dropped_cols = {op.column for op in p.drop_columns if op.table == key}
    adds: list = []
    for c in changes:
        name = c.name.rsplit(".", 1)[1]
        if c.object_type == "constraint":
            if c.kind == "removed":
                k = have_cons[name]
                if set(k.columns) and set(k.columns) <= dropped_cols and k.kind != "foreign_key":
                    continue  # goes with its column
                ops.append(P.DropConstraint(table=key, name=name))
                p.cats.append("drop_constraint")
            elif c.kind == "added":
                adds.append(_add_constraint(key, want_cons[name]))
                p.cats.append("constraint")
            else:
                p.unsupported.append(c.detail)
        elif c.object_type == "index":
            if c.kind == "removed":
                ix = have_ix[name]
                if ix.constraint or ix.primary:
                    continue  # the constraint's drop takes it
                if set(ix.keys) and set(ix.keys) <= dropped_cols:
                    continue  # goes with its column
                ops.append(P.DropIndex(table=key, name=name))
                p.cats.append("drop_index")
            elif c.kind == "added":
                ix = want_ix[name]
                if ix.constraint or ix.primary:
                    continue  # the constraint creates it
                adds.append(_create_index(key, ix))
                p.cats.append("index")
            else:
                p.unsupported.append(c.detail)
    p.tables.extend(ops + adds)


def _reported_column(t: Table, name: str) -> Column:
    """A column the differ reported on `t`: an added column is on the desired table, a
    changed one on both, so it is there by construction."""
    col = t.column(name)
    assert col is not None, f"the differ reported {t.qualified_name}.{name}, which is not there"
    return col


def _fk_order(tables: list[Table]) -> list[Table]:
    names = {t.qualified_name for t in tables}
    done: list[Table] = []
    pending = list(tables)
    while pending:
        progressed = False
        for t in list(pending):
            deps = {k.ref_table for k in t.constraints if k.kind == "foreign_key"}
            deps = (deps | {t.partition_of} | set(t.inherits)) & names
            if deps <= {d.qualified_name for d in done} | {t.qualified_name}:
                done.append(t)
                pending.remove(t)
                progressed = True
        if not progressed:
            done.extend(pending)
            break
    return done


def _create_table(t: Table) -> list:
    pk = next((k for k in t.constraints if k.kind == "primary_key"), None)
    cols = [
        P.ColumnDef(
            name=c.name,
            type=c.type,
            nullable=c.nullable,
            default=c.default,
            generated=c.generated,
            generated_kind=c.generated_kind,
            identity=c.identity,
            autoincrement=False,  # a serial column's sequence and default are explicit
        )
        for c in sorted(t.columns, key=lambda c: c.position)
    ]
    create = P.CreateTable(
        table=t.qualified_name, columns=cols, primary_key=pk.columns if pk else []
    )
    ops: list = [create]
    for k in t.constraints:
        if k.kind in ("primary_key", "not_null"):
            continue
        add = _add_constraint(t.qualified_name, k)
        if isinstance(add, P.AddForeignKey) and k.ref_table != t.qualified_name:
            create.foreign_keys.append(add)
        elif isinstance(add, P.AddCheck):
            create.checks.append(add)
        else:
            ops.append(add)
    for ix in t.indexes:
        if not ix.constraint and not ix.primary:
            ops.append(_create_index(t.qualified_name, ix))
    return ops


def _new_table_extras(t: Table) -> list:
    """What a new table carries besides columns, keys and indexes: its triggers,
    row-level security and policies, and the comments on it and its parts."""
    schema, _, bare = t.qualified_name.partition(".")
    name = quote_qualified(schema, bare)
    ops: list = []
    for tr in t.triggers:
        if not tr.inherited:
            ops.append(
                P.RawSQL(
                    upgrade=tr.definition,
                    downgrade=f"DROP TRIGGER {quote_ident(tr.name)} ON {name}",
                )
            )
    if t.rls_enabled:
        ops.append(_rls_op(name, "ENABLE", True))
    if t.rls_forced:
        ops.append(_rls_op(name, "FORCE", True))
    for pol in t.policies:
        ops.append(P.RawSQL(upgrade=_policy_sql(name, pol), downgrade=_drop_policy(name, pol)))
    targets = [(f"TABLE {name}", t.comment)]
    targets += [(f"COLUMN {name}.{quote_ident(c.name)}", c.comment) for c in t.columns]
    targets += [
        (f"CONSTRAINT {quote_ident(k.name)} ON {name}", k.comment)
        for k in t.constraints
        if not k.inherited
    ]
    targets += [
        (f"INDEX {quote_qualified(schema, i.name)}", i.comment)
        for i in t.indexes
        if not i.constraint and not i.primary
    ]
    targets += [(f"TRIGGER {quote_ident(x.name)} ON {name}", x.comment) for x in t.triggers]
    targets += [(f"POLICY {quote_ident(x.name)} ON {name}", x.comment) for x in t.policies]
    for what, comment in targets:
        if comment is not None:
            ops.append(
                P.RawSQL(
                    upgrade=f"COMMENT ON {what} IS {quote_literal(comment)}",
                    downgrade=f"COMMENT ON {what} IS NULL",
                )
            )
    return ops


def _rls_op(name: str, verb: str, on: bool) -> P.RawSQL:
    undo = {"ENABLE": "DISABLE", "FORCE": "NO FORCE"}[verb]
    up, down = (verb, undo) if on else (undo, verb)
    return P.RawSQL(
        upgrade=f"ALTER TABLE {name} {up} ROW LEVEL SECURITY",
        downgrade=f"ALTER TABLE {name} {down} ROW LEVEL SECURITY",
    )


def _policy_sql(table: str, pol) -> str:
    sql = f"CREATE POLICY {quote_ident(pol.name)} ON {table}"
    sql += " AS PERMISSIVE" if pol.permissive else " AS RESTRICTIVE"
    sql += f" FOR {pol.command}"
    roles = [r if r == "public" else quote_ident(r) for r in pol.roles] or ["public"]
    sql += " TO " + ", ".join(roles)
    if pol.using is not None:
        sql += f" USING ({pol.using})"
    if pol.with_check is not None:
        sql += f" WITH CHECK ({pol.with_check})"
    return sql


def _drop_policy(table: str, pol) -> str:
    return f"DROP POLICY {quote_ident(pol.name)} ON {table}"


_METHODS: dict[str, P.IndexMethod] = {m: m for m in get_args(P.IndexMethod)}


def _create_index(table: str, ix: Index) -> P.CreateIndex | P.RawSQL:
    """A typed index operation; an index by an access method it does not know (an
    extension's, such as bloom) is created by its own definition."""
    method = _METHODS.get(ix.method)
    if method is None:
        schema = table.partition(".")[0]
        return P.RawSQL(
            upgrade=ix.definition,
            downgrade=f"DROP INDEX {quote_qualified(schema, ix.name)}",
            table=table,
        )
    opclasses = {k: o for k, o in zip(ix.keys, ix.opclasses, strict=False) if o}
    return P.CreateIndex(
        table=table,
        name=ix.name,
        keys=list(ix.keys),
        method=method,
        opclasses=opclasses,
        unique=ix.unique,
        where=ix.predicate,
        include=list(ix.include),
        nulls_not_distinct=ix.nulls_not_distinct,
        kind="desired",
    )


def _add_constraint(table: str, k: Constraint):
    from migagent.tools.introspect.sqltext import check_expression

    plain = not k.deferrable and k.validated
    if k.kind == "check" and plain and "NO INHERIT" not in k.definition:
        return P.AddCheck(table=table, name=k.name, expression=check_expression(k.definition))
    if k.kind == "foreign_key" and k.ref_table and plain and "MATCH" not in k.definition:
        actions = {"CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT"}
        if "SET NULL (" not in k.definition and "SET DEFAULT (" not in k.definition:
            return P.AddForeignKey(
                table=table,
                name=k.name,
                columns=k.columns,
                ref_table=k.ref_table,
                ref_columns=k.ref_columns,
                on_delete=k.on_delete if k.on_delete in actions else None,
                on_update=k.on_update if k.on_update in actions else None,
            )
    if (
        k.kind == "unique"
        and plain
        and k.definition.startswith("UNIQUE (")
        and "INCLUDE" not in k.definition
        and k.columns
    ):
        return P.AddUnique(table=table, name=k.name, columns=k.columns)
    if (
        k.kind == "primary_key"
        and k.definition.startswith("PRIMARY KEY (")
        and "INCLUDE" not in k.definition
    ):
        return P.AddPrimaryKey(table=table, name=k.name, columns=k.columns)
    from migagent.agent.lower import qi, qt

    return P.RawSQL(
        upgrade=f"ALTER TABLE {qt(table)} ADD CONSTRAINT {qi(k.name)} {k.definition}",
        downgrade=f"ALTER TABLE {qt(table)} DROP CONSTRAINT {qi(k.name)}",
        table=table,
    )
