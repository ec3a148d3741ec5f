"""Table rewrites and bulk data changes: VACUUM FULL, CLUSTER, SET LOGGED, big UPDATE/DELETE."""

from __future__ import annotations

import copy

from pglast import ast
from pglast.enums import A_Expr_Kind, AlterTableType, BoolExprType

from migagent.tools.lint.rules.base import (
    RuleContext,
    autocommit,
    cmds,
    py,
    rule,
    sql_of,
    table_of,
)
from migagent.tools.lint.statements import Statement
from migagent.tools.pgast import node_as, relation, relname

_REPACK = (
    "# rewrite online with pg_repack (outside Alembic) instead, e.g.\n"
    "#   pg_repack --table={table} --dbname=...\n"
    "# or, to only reclaim space for reuse without a rewrite:\n"
)


def _boolean_option(opt: ast.DefElem) -> bool | None:
    """An option's value as PostgreSQL's defGetBoolean reads it: no value, 1, true, on
    are true; 0, false, off are false; anything else (None) makes the statement fail."""
    arg = opt.arg
    if arg is None:
        return True
    if isinstance(arg, ast.Integer):
        return {0: False, 1: True}.get(arg.ival) if arg.ival is not None else None
    if isinstance(arg, ast.Boolean):
        return bool(arg.boolval)
    value = str(getattr(arg, "sval", "")).lower()
    return {"true": True, "on": True, "false": False, "off": False}.get(value)


def _full(node: ast.VacuumStmt) -> bool:
    """Whether a VACUUM is a VACUUM FULL: `FULL`, `(FULL)`, `(FULL TRUE)`, never
    `(FULL FALSE)`; the last FULL option wins, as PostgreSQL reads them in order."""
    full = False
    for opt in node.options or ():
        if opt.defname == "full":
            value = _boolean_option(opt)
            full = True if value is None else value  # an invalid value: fails; be safe
    return full


@rule("vacuum-full", "VACUUM FULL rewrites the table under ACCESS EXCLUSIVE", ast.VacuumStmt)
def vacuum_full(stmt: Statement, c: RuleContext):
    node = node_as(stmt.node, ast.VacuumStmt)
    if not node.is_vacuumcmd or not _full(node):
        return
    rels = [relname(r.relation) for r in node.rels or ()] or [None]
    for rel in rels:
        table = rel.lower() if rel else None
        if table and c.created(table):
            continue
        target = table or "every table in the database"
        yield c.finding(
            "vacuum-full",
            f"VACUUM FULL rewrites {target} holding ACCESS EXCLUSIVE: no reads or writes until"
            " it finishes.",
            table=table,
            lock="ACCESS EXCLUSIVE",
            rewrites=True,
            fix=_REPACK.format(table=rel or "...")
            + autocommit(
                f"op.execute({py(f'VACUUM (ANALYZE) {rel}' if rel else 'VACUUM (ANALYZE)')})"
            ),
        )


@rule(
    "vacuum-in-transaction",
    "VACUUM cannot run inside a transaction block: the migration fails",
    ast.VacuumStmt,
)
def vacuum_in_transaction(stmt: Statement, c: RuleContext):
    node = node_as(stmt.node, ast.VacuumStmt)
    if not stmt.in_transaction:
        return
    word = "VACUUM" if node.is_vacuumcmd else "ANALYZE"
    if not node.is_vacuumcmd:
        return  # ANALYZE is allowed in a transaction
    yield c.finding(
        "vacuum-in-transaction",
        f"{word} cannot run inside a transaction block; PostgreSQL rejects it and the migration fails.",
        severity="error",
        fix=autocommit(f"op.execute({py(stmt.sql)})"),
    )


@rule("cluster", "CLUSTER rewrites the table under ACCESS EXCLUSIVE", ast.ClusterStmt)
def cluster(stmt: Statement, c: RuleContext):
    node = node_as(stmt.node, ast.ClusterStmt)
    rel = relname(node.relation)
    table = rel.lower() if rel else None
    if table and c.created(table):
        return
    yield c.finding(
        "cluster",
        f"CLUSTER rewrites {table or 'every previously clustered table'} in index order holding"
        " ACCESS EXCLUSIVE: no reads or writes until it finishes.",
        table=table,
        lock="ACCESS EXCLUSIVE",
        rewrites=True,
        fix=_REPACK.format(table=rel or "...").replace(
            "# or, to only reclaim space for reuse without a rewrite:\n", ""
        )
        + "# (pg_repack --order-by=... keeps the clustering)",
    )


@rule(
    "set-logged",
    "SET LOGGED / SET UNLOGGED rewrites the table under ACCESS EXCLUSIVE",
    ast.AlterTableStmt,
)
def set_logged(stmt: Statement, c: RuleContext):
    table = table_of(relation(node_as(stmt.node, ast.AlterTableStmt)))
    if c.created(table):
        return
    for cmd in cmds(stmt):
        if cmd.subtype not in (AlterTableType.AT_SetLogged, AlterTableType.AT_SetUnLogged):
            continue
        what = "SET LOGGED" if cmd.subtype == AlterTableType.AT_SetLogged else "SET UNLOGGED"
        yield c.finding(
            "set-logged",
            f"{what} rewrites {table} (and writes it all to WAL for LOGGED) holding ACCESS"
            " EXCLUSIVE: no reads or writes until it finishes.",
            table=table,
            lock="ACCESS EXCLUSIVE",
            rewrites=True,
            fix=(
                "# create the new table with the wanted persistence, copy rows in batches,\n"
                "# then swap names in one short transaction:\n"
                + f"op.execute({py(f'CREATE TABLE {table}_new (LIKE {table} INCLUDING ALL)')})"
            ),
        )


def _one_batch(where: ast.Node | None) -> bool:
    """Whether a WHERE bounds the statement to one batch: a key range (`k >= a AND k <= b`,
    `k BETWEEN a AND b`) or `ctid = ANY(ARRAY(SELECT ctid ... LIMIT n))`."""
    if where is None:
        return False
    lower: set[str] = set()
    upper: set[str] = set()
    found = False

    def walk(node: object) -> None:
        nonlocal found
        if isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.AND_EXPR:
            for arg in node.args or ():
                walk(arg)
        elif isinstance(node, ast.A_Expr) and isinstance(node.lexpr, ast.ColumnRef):
            col = sql_of(node.lexpr).split(".")[-1]
            name = node.name[-1].sval if node.name else ""
            if node.kind == A_Expr_Kind.AEXPR_BETWEEN:
                lower.add(col)
                upper.add(col)
            elif name in (">", ">="):
                lower.add(col)
            elif name in ("<", "<="):
                upper.add(col)
            elif (
                name == "="
                and col == "ctid"
                and isinstance(node.rexpr, ast.Node)
                and "LIMIT" in sql_of(node.rexpr).upper()
            ):
                found = True

    walk(where)
    return found or bool(lower & upper)


def _batched_update_sql(node: ast.UpdateStmt, rel: str) -> str | None:
    """`UPDATE ... WHERE ctid = ANY(ARRAY(SELECT ctid ... LIMIT n))` that terminates:
    only when every SET value is a constant, so updated rows drop out of the filter."""
    cols: list[str] = []
    vals: list[str] = []
    for target in node.targetList or ():
        if (
            not isinstance(target, ast.ResTarget)
            or not isinstance(target.val, ast.A_Const)
            or target.name is None
        ):
            return None
        cols.append(target.name)
        vals.append(sql_of(target.val))
    cond = " AND ".join(
        f"{col} IS DISTINCT FROM {val}" for col, val in zip(cols, vals, strict=True)
    )
    where = f"({sql_of(node.whereClause)}) AND {cond}" if node.whereClause is not None else cond
    sets = ", ".join(f"{col} = {val}" for col, val in zip(cols, vals, strict=True))
    return f"UPDATE {rel} SET {sets} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {rel} WHERE {where} LIMIT 10000))"


@rule(
    "unbatched-dml",
    "One UPDATE/DELETE over a large table holds row locks and bloats in a single long transaction",
    ast.UpdateStmt,
    ast.DeleteStmt,
)
def unbatched_dml(stmt: Statement, c: RuleContext):
    node = stmt.node
    if not isinstance(node, ast.UpdateStmt | ast.DeleteStmt):
        return
    rv = relation(node)
    table = table_of(rv)
    if c.created(table):
        return
    if not stmt.in_transaction and _one_batch(node.whereClause):
        return  # a batch committed on its own (autocommit), bounded by a key range or LIMIT
    rel = relname(rv)
    verb = "UPDATE" if isinstance(node, ast.UpdateStmt) else "DELETE"
    scope = "every row of" if node.whereClause is None else "rows of"
    if isinstance(node, ast.DeleteStmt):
        where = f" WHERE {sql_of(node.whereClause)}" if node.whereClause is not None else ""
        batch = (
            f"DELETE FROM {rel} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {rel}{where} LIMIT 10000))"
        )
    else:
        batch = _batched_update_sql(node, rel)
    if batch:
        fix = autocommit(
            "conn = op.get_bind()\n"
            "while conn.execute(sa.text(\n"
            f"    {py(batch)}\n"
            ")).rowcount:\n"
            "    pass"
        )
    else:
        bare = copy.deepcopy(node)
        bare.whereClause = None
        cond = (
            f" WHERE ({sql_of(node.whereClause)}) AND" if node.whereClause is not None else " WHERE"
        )
        ranged = f"{sql_of(bare)}{cond} id >= :a AND id < :b"
        fix = "# batch by primary key ranges, each batch in its own transaction:\n" + autocommit(
            "conn = op.get_bind()\n"
            f"lo, hi = conn.execute(sa.text({py(f'SELECT min(id), max(id) FROM {rel}')})).one()\n"
            "for start in range(lo or 0, (hi or 0) + 1, 10000):\n"
            f"    conn.execute(sa.text({py(ranged)}), {{'a': start, 'b': start + 10000}})"
        )
    yield c.finding(
        "unbatched-dml",
        f"{verb} of {scope} {table} in one statement: every touched row stays locked against"
        " concurrent writes until the migration commits, and the long transaction holds back"
        " vacuum. Batch it outside the transaction.",
        table=table,
        lock="ROW EXCLUSIVE",
        blocks_override=["writes"],
        scans=node.whereClause is None,
        fix=fix,
    )
