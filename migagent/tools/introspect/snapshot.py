"""Read a database's schema into a `SchemaSnapshot` with a fixed handful of queries."""

from __future__ import annotations

import gc
from collections import defaultdict
from typing import Any, Literal, LiteralString

import psycopg
from psycopg import sql

from migagent.errors import DatabaseError
from migagent.tools import target
from migagent.tools.introspect import queries as q
from migagent.tools.introspect.model import (
    CompositeType,
    Domain,
    Enum,
    Extension,
    Function,
    SchemaSnapshot,
    Sequence,
)
from migagent.tools.pgrow import scalar

_CONSTRAINT_KIND = {
    "p": "primary_key",
    "f": "foreign_key",
    "u": "unique",
    "c": "check",
    "x": "exclusion",
}
_FK_ACTION = {
    "a": "NO ACTION",
    "r": "RESTRICT",
    "c": "CASCADE",
    "n": "SET NULL",
    "d": "SET DEFAULT",
}
_TRIGGER_ENABLED = {"O": "origin", "A": "always", "R": "replica", "D": "disabled"}
_POLICY_COMMAND = {"*": "ALL", "r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE"}
FunctionKind = Literal["function", "procedure", "aggregate", "window"]
_FUNCTION_KIND: dict[str, FunctionKind] = {
    "f": "function",
    "p": "procedure",
    "a": "aggregate",
    "w": "window",
}


def snapshot_url(url: str) -> SchemaSnapshot:
    """Snapshot the database at `url` over a read-only connection."""
    with target.connect_readonly(url) as conn:
        return snapshot(conn)


def snapshot(conn: psycopg.Connection, *, schemas: list[str] | None = None) -> SchemaSnapshot:
    """Everything about the user schemas of `conn`'s database (read-only, ~14 queries).

    `schemas` restricts the snapshot to those schemas (default: every schema
    that is not a system or extension schema). Works inside a read-only
    transaction; leaves the caller's search_path as it was.
    """
    # The snapshot is tens of thousands of small acyclic objects: cyclic garbage
    # collection during the build only costs time (it doubled it on 1,000 tables).
    collecting = gc.isenabled()
    gc.disable()
    try:
        with conn.transaction():
            server = conn.execute(q.SERVER).fetchone()
            if server is None:  # a SELECT of four functions returns one row
                raise DatabaseError("the server returned no row for its version")
            version, version_text, database, search_path = server
            conn.execute("SELECT set_config('search_path', 'pg_catalog', true)")
            try:
                return _read(conn, version, version_text, database, schemas)
            finally:
                if conn.info.transaction_status != psycopg.pq.TransactionStatus.INERROR:
                    conn.execute("SELECT set_config('search_path', %s, true)", (search_path,))
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DatabaseError(
            f"cannot read the schema: {first}",
            "check that the user may read the system catalogs",
        ) from exc
    finally:
        if collecting:
            gc.enable()


def _read(
    conn: psycopg.Connection,
    version: int,
    version_text: str,
    database: str,
    schemas: list[str] | None,
) -> SchemaSnapshot:
    def rows(query: LiteralString, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        # never prepare: a generic plan for these catalog queries can be 10x slower
        return conn.execute(query, params or {}, prepare=False).fetchall()

    nsp_rows = rows(q.SCHEMAS, {"schemas": schemas})
    nsp = [r[0] for r in nsp_rows]
    p = {"nsp": nsp}
    snap = SchemaSnapshot(
        server_version=version,
        server_version_text=version_text,
        database=database,
        schemas=sorted(r[1] for r in nsp_rows),
    )

    comments: dict[tuple[str, int, int], str] = {
        (kind, oid, sub): text for kind, oid, sub, text in rows(q.COMMENTS)
    }

    def comment(kind: str, oid: int, sub: int = 0) -> str | None:
        return comments.get((kind, oid, sub))

    # columns, shared by tables, views and composite types
    columns: dict[int, list[dict]] = defaultdict(list)
    attnames: dict[tuple[int, int], str] = {}
    for (
        relid,
        name,
        num,
        typ,
        notnull,
        default,
        identity,
        generated,
        gen_expr,
        collation,
        islocal,
    ) in rows(q.COLUMNS, p):
        attnames[relid, num] = name
        columns[relid].append(
            dict(
                name=name,
                type=typ,
                nullable=not notnull,
                default=default,
                identity={"a": "always", "d": "by default"}.get(identity),
                generated=gen_expr,
                generated_kind={"s": "stored", "v": "virtual"}.get(generated),
                collation=collation,
                comment=comment("class", relid, num),
                position=num,
                inherited=not islocal,
            )
        )

    tables: dict[int, dict] = {}
    views: dict[int, dict] = {}
    qnames: dict[int, str] = {}
    for (
        oid,
        schema,
        name,
        kind,
        persistence,
        rls,
        rls_forced,
        _ispartition,
        partkey,
        bound,
        parents,
        options,
        reltuples,
        table_size,
        table_bytes,
        viewdef,
    ) in rows(q.RELATIONS, p):
        if kind in ("v", "m"):
            qnames[oid] = f"{schema}.{name}"
            views[oid] = dict(
                schema_name=schema,
                name=name,
                materialized=kind == "m",
                definition=viewdef.strip(),
                columns=columns.get(oid, []),
                options=sorted(options),
                comment=comment("class", oid),
                indexes=[],
                triggers=[],
                depends_on=[],
            )
            continue
        qnames[oid] = f"{schema}.{name}"
        tables[oid] = dict(
            schema_name=schema,
            name=name,
            kind="partitioned" if kind == "p" else "table",
            columns=columns.get(oid, []),
            rls_enabled=rls,
            rls_forced=rls_forced,
            persistence="unlogged" if persistence == "u" else "permanent",
            partition_key=partkey,
            partition_of=parents[0] if bound is not None and parents else None,
            partition_bound=bound,
            inherits=[] if bound is not None else list(parents),
            options=sorted(options),
            comment=comment("class", oid),
            row_estimate=reltuples,
            total_bytes=table_size,  # indexes are added below
            table_bytes=table_bytes,
            constraints=[],
            indexes=[],
            triggers=[],
            policies=[],
        )

    for (
        relid,
        oid,
        name,
        contype,
        definition,
        cols,
        validated,
        deferrable,
        deferred,
        index,
        ref_table,
        ref_cols,
        upd,
        dele,
        inherited,
    ) in rows(q.CONSTRAINTS, p):
        if relid not in tables:
            continue
        is_fk = contype == "f"
        tables[relid]["constraints"].append(
            dict(
                name=name,
                kind=_CONSTRAINT_KIND[contype],
                definition=definition,
                columns=[attnames.get((relid, n), str(n)) for n in cols or []],
                validated=validated,
                deferrable=deferrable,
                initially_deferred=deferred,
                index=index,
                ref_table=ref_table,
                ref_columns=list(ref_cols) if is_fk else [],
                on_update=_FK_ACTION.get(upd) if is_fk else None,
                on_delete=_FK_ACTION.get(dele) if is_fk else None,
                comment=comment("constraint", oid),
                inherited=inherited,
            )
        )

    opclass_names = dict(rows(q.OPCLASSES))
    for (
        oid,
        relid,
        name,
        method,
        unique,
        primary,
        attnums,
        expressions,
        nkey,
        opclasses,
        predicate,
        nulls_not_distinct,
        valid,
        conname,
        definition,
        size,
        parent,
    ) in rows(q.indexes(version), p):
        owner = tables.get(relid) or views.get(relid)
        if owner is None:
            continue
        keys = [
            expressions[k] if n == 0 else attnames.get((relid, n), str(n))
            for k, n in enumerate(attnums)
        ]
        if relid in tables:
            owner["total_bytes"] += size
        owner["indexes"].append(
            dict(
                name=name,
                table=qnames[relid],
                method=method,
                unique=unique,
                primary=primary,
                keys=keys[:nkey],
                opclasses=[opclass_names.get(o) for o in opclasses],
                include=keys[nkey:],
                predicate=predicate,
                nulls_not_distinct=nulls_not_distinct,
                valid=valid,
                constraint=conname,
                definition=definition,
                size_bytes=size,
                comment=comment("class", oid),
                parent=parent,
            )
        )

    for relid, oid, name, definition, enabled, inherited in rows(q.TRIGGERS, p):
        owner = tables.get(relid) or views.get(relid)
        if owner is None:
            continue
        owner["triggers"].append(
            dict(
                name=name,
                table=qnames[relid],
                definition=definition,
                enabled=_TRIGGER_ENABLED.get(enabled, "origin"),
                inherited=inherited,
                comment=comment("trigger", oid),
            )
        )

    for relid, oid, name, cmd, permissive, roles, using, check in rows(q.POLICIES, p):
        if relid not in tables:
            continue
        tables[relid]["policies"].append(
            dict(
                name=name,
                table=qnames[relid],
                command=_POLICY_COMMAND[cmd],
                permissive=permissive,
                roles=list(roles),
                using=using,
                with_check=check,
                comment=comment("policy", oid),
            )
        )

    for relid, dep in rows(q.VIEW_DEPENDENCIES, p):
        if relid in views:
            views[relid]["depends_on"].append(dep)

    # one validation pass for the bulk of the snapshot (pydantic-core, not per object)
    bulk = SchemaSnapshot.model_validate(
        {
            "server_version": version,
            "tables": {qnames[o]: tables[o] for o in sorted(tables, key=lambda o: _key(tables[o]))},
            "views": {qnames[o]: views[o] for o in sorted(views, key=lambda o: _key(views[o]))},
        }
    )
    snap.tables, snap.views = bulk.tables, bulk.views

    for (
        oid,
        schema,
        name,
        typtype,
        labels,
        base,
        notnull,
        default,
        checks,
        typrelid,
    ) in rows(q.TYPES, p):
        key = f"{schema}.{name}"
        note = comment("type", oid)
        if typtype == "e":
            snap.enums[key] = Enum(schema_name=schema, name=name, labels=list(labels), comment=note)
        elif typtype == "d":
            snap.domains[key] = Domain(
                schema_name=schema,
                name=name,
                base_type=base,
                nullable=not notnull,
                default=default,
                checks=list(checks),
                comment=note,
            )
        else:
            snap.composite_types[key] = CompositeType(
                schema_name=schema,
                name=name,
                attributes=[(c["name"], c["type"]) for c in columns.get(typrelid, [])],
                comment=note or comment("class", typrelid),
            )

    for (
        oid,
        schema,
        name,
        data_type,
        start,
        increment,
        min_value,
        max_value,
        cycle,
        cache,
        owner_col,
        deptype,
        last_value,
    ) in rows(q.SEQUENCES, p):
        if deptype == "i":
            continue  # an identity column's sequence is part of that column
        snap.sequences[f"{schema}.{name}"] = Sequence(
            schema_name=schema,
            name=name,
            data_type=data_type,
            start=start,
            increment=increment,
            min_value=min_value,
            max_value=max_value,
            cycle=cycle,
            cache=cache,
            owned_by=owner_col,
            last_value=last_value,
            comment=comment("class", oid),
        )

    for (
        oid,
        schema,
        name,
        args,
        kind,
        returns,
        language,
        definition,
        sql_body,
        aggregate_def,
    ) in rows(q.functions(version), p):
        fn = Function(
            schema_name=schema,
            name=name,
            identity_args=args,
            kind=_FUNCTION_KIND.get(kind, "function"),
            returns=returns,
            language=language,
            definition=(definition if definition is not None else aggregate_def or "").strip(),
            sql_body=sql_body,
            comment=comment("function", oid),
        )
        snap.functions[fn.signature] = fn

    for name, version_, schema in rows(q.EXTENSIONS):
        snap.extensions[name] = Extension(name=name, version=version_, schema_name=schema)

    snap.alembic_revisions = _alembic_revisions(conn, snap)
    _estimate_unanalysed(conn, snap)
    return snap


def _alembic_revisions(conn: psycopg.Connection, snap: SchemaSnapshot) -> list[str]:
    candidates = [
        t
        for t in snap.tables.values()
        if t.name == "alembic_version" and t.column("version_num") is not None
    ]
    if not candidates:
        return []
    table = next((t for t in candidates if t.schema_name == "public"), candidates[0])
    stmt = sql.SQL("SELECT version_num::text FROM {}.{} ORDER BY 1").format(
        sql.Identifier(table.schema_name), sql.Identifier(table.name)
    )
    try:
        with conn.transaction():
            return [r[0] for r in conn.execute(stmt).fetchall()]
    except psycopg.errors.InsufficientPrivilege:
        return []


def _key(obj: dict) -> tuple[str, str]:
    return (obj["schema_name"], obj["name"])


def _estimate_unanalysed(conn: psycopg.Connection, snap: SchemaSnapshot) -> None:
    """A table never analysed has reltuples -1 (read as 0) although it may hold millions of
    rows: take the planner's own estimate from its pages, as EXPLAIN gives it (read-only,
    one cheap statement per such table), so "large" is not decided on a missing statistic."""
    for t in snap.tables.values():
        if t.row_estimate > 0 or t.table_bytes <= 8192 or t.kind != "table":
            continue
        query = sql.SQL("EXPLAIN (FORMAT JSON) SELECT 1 FROM {}").format(
            sql.Identifier(t.schema_name, t.name)
        )
        try:
            with conn.transaction():
                plan = scalar(conn.execute(query, prepare=False))
        except psycopg.Error:
            continue
        t.row_estimate = max(int(plan[0]["Plan"].get("Plan Rows", 0)), 0)
