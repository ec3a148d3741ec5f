"""The desired-schema path: `--desired desired.sql` or `--models pkg.module:Base`.

The desired schema is authoritative. It is loaded into a scratch database (the
way Atlas normalises through a dev database), snapshotted, and compared with
the current snapshot object by object, so everything introspection knows is
compared: columns (type, nullability, default, generated, identity), indexes
(method, keys and expressions, opclasses, INCLUDE, predicate, uniqueness),
constraints (checks, foreign keys with their actions, unique, primary keys,
exclusion), enums and their labels, extensions. The differences become plan
operations, which go through the same lowering as any backend's plan.

A desired file may hold only the tables it is about (as pasted in the
template's "Desired Schema"): tables it does not mention are left alone.
"""

from __future__ import annotations

import importlib
import re

from migagent.agent import plan as P
from migagent.agent.errors import UnderstandingError
from migagent.errors import MigagentError, UsageError
from migagent.tools.introspect.model import Constraint, Index, SchemaSnapshot, Table
from migagent.tools.introspect.sqltext import check_expression
from migagent.tools.sandbox import Sandbox

_CREATE_TABLE = re.compile(
    r"\bcreate\s+(?:unlogged\s+)?table\s+(?:if\s+not\s+exists\s+)?((?:\"?\w+\"?\.)?\"?\w+\"?)", re.I
)


def load_desired(
    sandbox: Sandbox, current_template: str, *, desired_sql: str | None, models: str | None
) -> SchemaSnapshot:
    """Snapshot of the desired schema, loaded into a scratch database."""
    from migagent.tools.introspect import snapshot

    if models:
        return _snapshot_models(sandbox, models)
    assert desired_sql is not None
    try:
        template = sandbox.template_from_sql(desired_sql, source="desired schema")
    except MigagentError as first:
        # it may build on tables it does not define: load it over a copy of the current schema
        names = [m.group(1).replace('"', "") for m in _CREATE_TABLE.finditer(desired_sql)]
        drops = "".join(f"DROP TABLE IF EXISTS {n} CASCADE;\n" for n in names)
        try:
            with sandbox.scratch(current_template) as db:
                sandbox.load_sql(db.url, drops + desired_sql, source="desired schema")
                with db.connect() as conn:
                    return snapshot(conn)
        except MigagentError:
            raise first from None
    with sandbox.scratch(template) as db, db.connect() as conn:
        return snapshot(conn)


def _snapshot_models(sandbox: Sandbox, spec: str) -> SchemaSnapshot:
    from migagent.tools.introspect import snapshot

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

    with sandbox.scratch() as db:
        engine = sa.create_engine(db.sqlalchemy_url)
        try:
            with engine.begin() as conn:
                for schema in {t.schema for t in metadata.tables.values() if t.schema}:
                    conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
                metadata.create_all(conn)
        except sa.exc.SQLAlchemyError as exc:
            raise UsageError(
                f"the models do not create on PostgreSQL: {str(exc).splitlines()[0]}"
            ) from None
        finally:
            engine.dispose()
        with db.connect() as conn:
            return snapshot(conn)


def plan_from_desired(
    request: str,
    facts: P.Facts,
    sandbox: Sandbox,
    *,
    desired_sql: str | None = None,
    models: str | None = None,
    current_template: str | None = None,
) -> P.DraftPlan:
    desired = load_desired(
        sandbox, current_template or "template0", desired_sql=desired_sql, models=models
    )
    return diff_to_plan(request, facts.snapshot, desired, facts=facts)


# ------------------------------------------------------------------ diff -> operations
def _index_sig(ix: Index) -> tuple:
    return (
        ix.method,
        ix.unique,
        tuple(ix.keys),
        tuple(o or "" for o in ix.opclasses),
        tuple(ix.include),
        ix.predicate or "",
        ix.nulls_not_distinct,
    )


def _con_sig(k: Constraint) -> tuple:
    return (k.kind, re.sub(r"\s+", " ", k.definition))


def diff_to_plan(
    request: str, current: SchemaSnapshot, desired: SchemaSnapshot, *, facts: P.Facts | None = None
) -> P.DraftPlan:
    ops: list = []
    tail: list = []  # drops of columns go last
    notes: list[str] = []
    cats: list[str] = ["desired_schema"]
    # extensions and enums first
    for name in desired.extensions:
        if name not in current.extensions and name not in desired.stand_ins and name != "plpgsql":
            ops.append(P.CreateExtension(name=desired.extensions[name].name))
    for key, e in desired.enums.items():
        have = current.enums.get(key)
        ename = e.name if e.schema_name == "public" else f"{e.schema_name}.{e.name}"
        if have is None:
            ops.append(P.CreateEnum(name=ename, labels=e.labels))
        else:
            missing = [v for v in e.labels if v not in have.labels]
            if [v for v in have.labels if v not in e.labels]:
                raise UnderstandingError(
                    f"the desired schema removes values from enum {e.name}: not supported offline"
                )
            for v in missing:
                i = e.labels.index(v)
                after = e.labels[i - 1] if i > 0 else None
                before = e.labels[i + 1] if after is None and i + 1 < len(e.labels) else None
                ops.append(P.AddEnumValue(name=ename, value=v, after=after, before=before))
    new_tables = [
        t for k, t in desired.tables.items() if k not in current.tables and not t.partition_of
    ]
    for t in _fk_order(new_tables):
        ops.extend(_create_table(t))
        cats.append("create_table")
    for key, want in desired.tables.items():
        have = current.tables.get(key)
        if have is None or want.partition_of:
            continue
        tname = key
        # columns
        have_cols = {c.name: c for c in have.columns}
        want_cols = {c.name: c for c in want.columns}
        for c in sorted(want.columns, key=lambda c: c.position):
            if c.name in have_cols:
                continue
            ops.append(
                P.AddColumn(
                    table=tname,
                    column=P.ColumnDef(
                        name=c.name,
                        type=c.type,
                        nullable=c.nullable,
                        default=c.default,
                        generated=c.generated,
                        identity=c.identity,
                    ),
                )
            )
            cats.append("add_column")
        for c in have.columns:
            if c.name not in want_cols:
                tail.append(P.DropColumn(table=tname, column=c.name))
                cats.append("drop_column")
        for name, w in want_cols.items():
            h = have_cols.get(name)
            if h is None:
                continue
            if (h.generated or None) != (w.generated or None) or h.identity != w.identity:
                raise UnderstandingError(
                    f"the desired schema changes the generated/identity definition of {have.name}.{name}: not supported offline"
                )
            if h.type != w.type:
                ops.append(P.AlterColumnType(table=tname, column=name, new_type=w.type))
                cats.append("type_change")
            if (h.default or None) != (w.default or None) and not w.identity:
                ops.append(P.SetDefault(table=tname, column=name, default=w.default))
                cats.append("default")
            if h.nullable and not w.nullable:
                ops.append(P.SetNotNull(table=tname, column=name))
                cats.append("not_null")
            elif not h.nullable and w.nullable:
                ops.append(P.DropNotNull(table=tname, column=name))
        # constraints (names ignored for matching; the desired names are used)
        have_cons = {_con_sig(k): k for k in have.constraints if k.kind != "not_null"}
        want_cons = {_con_sig(k): k for k in want.constraints if k.kind != "not_null"}
        for sig, k in have_cons.items():
            if sig not in want_cons:
                ops.append(P.DropConstraint(table=tname, name=k.name))
                cats.append("drop_constraint")
        # indexes not backing constraints
        have_ix = {_index_sig(i): i for i in have.indexes if not i.constraint and not i.primary}
        want_ix = {_index_sig(i): i for i in want.indexes if not i.constraint and not i.primary}
        for sig, ix in have_ix.items():
            if sig not in want_ix:
                ops.append(P.DropIndex(table=tname, name=ix.name))
                cats.append("drop_index")
        for sig, ix in want_ix.items():
            if sig not in have_ix:
                ops.append(_create_index(tname, ix))
                cats.append("index")
        for sig, k in want_cons.items():
            if sig not in have_cons:
                ops.append(_add_constraint(tname, k))
                cats.append("constraint")
    ops.extend(tail)
    if not ops:
        raise UnderstandingError(
            "the desired schema is the same as the current one: nothing to migrate"
        )
    tables = sorted({t.split(".")[-1] for op in ops for t in op.tables()})
    intent = (
        f"Match the desired schema for {', '.join(tables)}"
        if tables
        else "Match the desired schema"
    )
    slug = "match_desired_" + "_".join(tables)[:40]
    return P.DraftPlan(
        intent=intent,
        slug=slug,
        operations=ops,
        assumptions=notes,
        categories=list(dict.fromkeys(cats)),
        backend="desired",
    )


def _fk_order(tables: list[Table]) -> list[Table]:
    names = {t.qualified_name for t in tables}
    done: list[Table] = []
    pending = list(tables)
    while pending:
        progressed = False
        for t in list(pending):
            deps = {k.ref_table for k in t.constraints if k.kind == "foreign_key"} & names
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
            identity=c.identity,
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
        if isinstance(add, P.AddForeignKey):
            create.foreign_keys.append(add)
        elif isinstance(add, P.AddCheck):
            create.checks.append(add)
        else:
            ops.append(add)
    for ix in t.indexes:
        if not ix.constraint and not ix.primary:
            ops.append(_create_index(t.qualified_name, ix))
    return ops


def _create_index(table: str, ix: Index) -> P.CreateIndex:
    opclasses = {k: o for k, o in zip(ix.keys, ix.opclasses, strict=False) if o}
    keys = list(ix.keys)
    return P.CreateIndex(
        table=table,
        name=ix.name,
        keys=keys,
        method=ix.method,
        opclasses=opclasses,
        unique=ix.unique,
        where=ix.predicate,
        include=list(ix.include),
        kind="desired",
    )


def _add_constraint(table: str, k: Constraint):
    if k.kind == "check":
        return P.AddCheck(table=table, name=k.name, expression=check_expression(k.definition))
    if k.kind == "foreign_key" and k.ref_table:
        actions = {"CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT"}
        return P.AddForeignKey(
            table=table,
            name=k.name,
            columns=k.columns,
            ref_table=k.ref_table,
            ref_columns=k.ref_columns,
            on_delete=k.on_delete if k.on_delete in actions else None,
            on_update=k.on_update if k.on_update in actions else None,
        )
    if k.kind == "unique" and "NULLS NOT DISTINCT" not in k.definition and k.columns:
        return P.AddUnique(table=table, name=k.name, columns=k.columns)
    if k.kind == "primary_key":
        return P.AddPrimaryKey(table=table, name=k.name, columns=k.columns)
    from migagent.agent.lower import qi, qt

    return P.RawSQL(
        upgrade=f"ALTER TABLE {qt(table)} ADD CONSTRAINT {qi(k.name)} {k.definition}",
        downgrade=f"ALTER TABLE {qt(table)} DROP CONSTRAINT {qi(k.name)}",
        table=table,
    )
