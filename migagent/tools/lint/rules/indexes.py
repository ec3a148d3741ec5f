"""Index builds, drops and rebuilds."""

from __future__ import annotations

import copy

from pglast import ast
from pglast.enums import AlterTableType, ObjectType, ReindexObjectType

from migagent.tools.lint.rules.base import (
    RuleContext,
    autocommit,
    cmds,
    names,
    op_execute,
    py,
    rule,
    sql_of,
    table_of,
)
from migagent.tools.lint.statements import Statement
from migagent.tools.pgast import bare_relname, node_as, relation, relname


def _simple_columns(node: ast.IndexStmt) -> list[str] | None:
    cols = []
    for p in node.indexParams or ():
        if not isinstance(p, ast.IndexElem) or p.name is None or p.opclass or p.collation:
            return None
        if p.ordering or p.nulls_ordering:
            return None
        cols.append(p.name)
    return cols


def create_index_fix(node: ast.IndexStmt) -> str:
    """`op.create_index(..., postgresql_concurrently=True)` in an autocommit block."""
    cols = _simple_columns(node)
    simple = (
        cols
        and node.idxname
        and not node.whereClause
        and not node.indexIncludingParams
        and not node.options
        and not node.if_not_exists
    )
    if cols and node.idxname and simple:
        rv = relation(node)
        args = [py(node.idxname), py(bare_relname(rv)), "[" + ", ".join(map(py, cols)) + "]"]
        if node.unique:
            args.append("unique=True")
        if rv.schemaname:
            args.append(f"schema={py(rv.schemaname)}")
        if node.accessMethod and node.accessMethod != "btree":
            args.append(f"postgresql_using={py(node.accessMethod)}")
        args.append("postgresql_concurrently=True")
        call = f"op.create_index({', '.join(args)})"
    else:
        fixed = copy.deepcopy(node)
        fixed.concurrent = True
        call = op_execute(sql_of(fixed))
    return autocommit(call)


@rule(
    "index-not-concurrent",
    "CREATE INDEX without CONCURRENTLY blocks writes for the whole build",
    ast.IndexStmt,
)
def index_not_concurrent(stmt: Statement, c: RuleContext):
    node = node_as(stmt.node, ast.IndexStmt)
    table = table_of(node.relation)
    if node.concurrent or c.created(table):
        return
    yield c.finding(
        "index-not-concurrent",
        f"CREATE INDEX on {table} holds a SHARE lock that blocks writes until the index is built;"
        " build it CONCURRENTLY outside the transaction.",
        table=table,
        lock="SHARE",
        scans=True,
        fix=create_index_fix(node),
    )


def _index_table(c: RuleContext, index: str) -> str | None:
    info = c.state.created_indexes.get(index.lower())
    if info:
        return info.table
    t = c.ctx.index_tables.get(index.lower())
    return t.lower() if t else None


@rule(
    "drop-index-not-concurrent",
    "DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the table",
    ast.DropStmt,
)
def drop_index_not_concurrent(stmt: Statement, c: RuleContext):
    node = node_as(stmt.node, ast.DropStmt)
    if node.removeType != ObjectType.OBJECT_INDEX or node.concurrent:
        return
    for obj in node.objects or ():
        index = names(obj)
        table = _index_table(c, index)
        if table and c.created(table):
            continue
        info = c.state.created_indexes.get(index.lower())
        if info is not None and c.created(info.table):
            continue
        schema, _, bare = index.rpartition(".")
        args = [py(bare)]
        if table:
            args.append(f"table_name={py(table.rpartition('.')[2])}")
        if schema:
            args.append(f"schema={py(schema)}")
        if node.missing_ok:
            args.append("if_exists=True")
        args.append("postgresql_concurrently=True")
        yield c.finding(
            "drop-index-not-concurrent",
            f"DROP INDEX {index} takes an ACCESS EXCLUSIVE lock on its table, blocking reads"
            " and writes while it waits for running queries; drop it CONCURRENTLY.",
            table=table,
            lock="ACCESS EXCLUSIVE",
            fix=autocommit(f"op.drop_index({', '.join(args)})"),
            severity="warning",
        )


@rule(
    "reindex-not-concurrent",
    "REINDEX without CONCURRENTLY blocks writes (and reads that use the index)",
    ast.ReindexStmt,
)
def reindex_not_concurrent(stmt: Statement, c: RuleContext):
    node = node_as(stmt.node, ast.ReindexStmt)
    if any(p.defname == "concurrently" for p in node.params or ()):
        return
    name = relname(node.relation) or node.name
    if node.kind == ReindexObjectType.REINDEX_OBJECT_INDEX:
        table = _index_table(c, name or "")
        lock = "ACCESS EXCLUSIVE"
        what = f"REINDEX INDEX {name} locks the index ACCESS EXCLUSIVE (queries using it wait) and its table SHARE (writes wait)"
    else:
        table = table_of(node.relation)
        lock = "SHARE"
        what = f"REINDEX of {name} holds a SHARE lock that blocks writes for the whole rebuild"
    if table and c.created(table):
        return
    if c.ctx.pg_version >= 12:
        kind = (node.kind or ReindexObjectType.REINDEX_OBJECT_TABLE).name.removeprefix(
            "REINDEX_OBJECT_"
        )
        fix = autocommit(op_execute(f"REINDEX {kind} CONCURRENTLY {name}"))
        advice = "; use REINDEX ... CONCURRENTLY (PostgreSQL 12+) outside the transaction."
    else:
        fix = (
            "# PostgreSQL < 12 has no REINDEX CONCURRENTLY: build a replacement index\n"
            "# concurrently, then drop the old one concurrently and rename the new one.\n"
            + autocommit(op_execute(f"CREATE INDEX CONCURRENTLY {name}_new ON ..."))
        )
        advice = "; build a replacement index concurrently instead."
    yield c.finding(
        "reindex-not-concurrent",
        what + advice,
        table=table,
        lock=lock,
        scans=True,
        fix=fix,
    )


_CONCURRENT_SUMMARY = "CONCURRENTLY cannot run inside a transaction block: the migration fails"


def _concurrent_kind(node: ast.Node) -> str | None:
    if isinstance(node, ast.IndexStmt) and node.concurrent:
        return "CREATE INDEX CONCURRENTLY"
    if isinstance(node, ast.DropStmt) and node.concurrent:
        return "DROP INDEX CONCURRENTLY"
    if isinstance(node, ast.ReindexStmt) and any(
        p.defname == "concurrently" for p in node.params or ()
    ):
        return "REINDEX CONCURRENTLY"
    if isinstance(node, ast.AlterTableStmt):
        for cmd in node.cmds or ():
            if cmd.subtype == AlterTableType.AT_DetachPartition and getattr(
                cmd.def_, "concurrent", False
            ):
                return "DETACH PARTITION CONCURRENTLY"
    return None


@rule(
    "concurrently-in-transaction",
    _CONCURRENT_SUMMARY,
    ast.IndexStmt,
    ast.DropStmt,
    ast.ReindexStmt,
    ast.AlterTableStmt,
)
def concurrently_in_transaction(stmt: Statement, c: RuleContext):
    kind = _concurrent_kind(stmt.node)
    if not kind or not stmt.in_transaction:
        return
    if stmt.op_name == "create_index" and isinstance(stmt.node, ast.IndexStmt):
        fix = create_index_fix(stmt.node)
    else:
        fix = autocommit(op_execute(stmt.sql))
    yield c.finding(
        "concurrently-in-transaction",
        f"{kind} cannot run inside a transaction block; PostgreSQL rejects it and the"
        " migration fails. Run it in op.get_context().autocommit_block().",
        severity="error",
        fix=fix,
    )


@rule(
    "detach-partition-not-concurrent",
    "DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the parent",
    ast.AlterTableStmt,
)
def detach_partition(stmt: Statement, c: RuleContext):
    rv = relation(node_as(stmt.node, ast.AlterTableStmt))
    table = table_of(rv)
    for cmd in cmds(stmt):
        spec = cmd.def_
        if cmd.subtype != AlterTableType.AT_DetachPartition or not isinstance(
            spec, ast.PartitionCmd
        ):
            continue
        if spec.concurrent:
            continue
        if c.created(table):
            return
        part = relname(spec.name)
        if c.ctx.pg_version >= 14:
            fix = autocommit(
                op_execute(f"ALTER TABLE {relname(rv)} DETACH PARTITION {part} CONCURRENTLY")
            )
        else:
            fix = None
        yield c.finding(
            "detach-partition-not-concurrent",
            f"DETACH PARTITION {part} takes ACCESS EXCLUSIVE on {table}, blocking reads and"
            " writes on every partition; use DETACH PARTITION ... CONCURRENTLY (PostgreSQL 14+).",
            table=table,
            lock="ACCESS EXCLUSIVE",
            severity="warning",
            fix=fix,
        )
