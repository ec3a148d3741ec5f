"""Uniqueness: duplicate keys make a UNIQUE / PRIMARY KEY constraint or a unique index fail."""

from __future__ import annotations

from pglast import ast
from pglast.enums import ConstrType

from migagent.tools.preflight.context import PlanContext, columns_in, deparse, short
from migagent.tools.preflight.kinds.not_null import not_null_check
from migagent.tools.preflight.kinds.registry import kind
from migagent.tools.preflight.model import PreflightCheck
from migagent.tools.sql import quote_ident


def unique_check(
    ctx: PlanContext,
    columns: tuple[str, ...],
    expressions: tuple[str, ...] = (),
    *,
    predicate: str | None = None,
    nulls_not_distinct: bool = False,
) -> list[PreflightCheck]:
    """The duplicates question; answered without a query when a valid unique index
    on the target already has exactly this key."""
    t = ctx.target_table()
    skip = None
    if t is not None and not expressions and not ctx.created():
        names = [ctx.column_name(c) for c in columns]
        for ix in t.indexes:
            same = ix.unique and ix.valid and ix.keys == names and ix.predicate is None
            if same and (ix.nulls_not_distinct or not nulls_not_distinct):
                skip = f"the unique index {ix.name} already enforces it on the target"
    keys = ", ".join(expressions or tuple(quote_ident(ctx.column_name(c)) for c in columns))
    where = f" WHERE {predicate}" if predicate else ""
    exact = "exact: groups the rows by the key and counts groups of more than one row"
    exact += (
        ", NULLs not distinct" if nulls_not_distinct else " (rows with a NULL key are distinct)"
    )
    if expressions:
        exact += "; non-default operator classes and collations are not modelled"
    return [
        ctx.check(
            "unique",
            columns=columns,
            expressions=expressions,
            predicate=predicate,
            nulls_not_distinct=nulls_not_distinct,
            skip=skip,
            skip_status="ok" if skip else "info",
            exactness=exact,
            fix=(
                "merge or delete the duplicates first; list them with SELECT "
                f"{keys}, count(*) FROM {short(ctx.table)}{where} GROUP BY {keys} "
                "HAVING count(*) > 1"
            ),
        )
    ]


def _using_index(con: ast.Constraint, ctx: PlanContext) -> list[PreflightCheck]:
    """ADD ... USING INDEX: the index already holds the uniqueness (it was built on the
    target, or earlier in this revision where its own check asked); a PRIMARY KEY also
    needs its columns free of NULLs."""
    name = con.indexname
    if con.contype != ConstrType.CONSTR_PRIMARY or not name:
        return []
    made = ctx.state.created_indexes.get(name)
    if made is not None:
        columns = made[1]
    else:
        ix = ctx.find_index(name)
        columns = tuple(ix.keys) if ix else ()
    return [c for col in columns for c in not_null_check(ctx, col)]


@kind(ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_PRIMARY)
def unique_constraint(con: ast.Constraint, ctx: PlanContext) -> list[PreflightCheck]:
    if con.indexname:
        return _using_index(con, ctx)
    columns = tuple(k.sval for k in con.keys or ())
    out: list[PreflightCheck] = []
    if con.contype == ConstrType.CONSTR_PRIMARY:
        out += [c for col in columns for c in not_null_check(ctx, col)]
    out += unique_check(ctx, columns, nulls_not_distinct=bool(con.nulls_not_distinct))
    return out


@kind(ast.IndexStmt)
def unique_index(node: ast.IndexStmt, ctx: PlanContext) -> list[PreflightCheck]:
    """CREATE UNIQUE INDEX [CONCURRENTLY], with expressions, a partial predicate and
    NULLS NOT DISTINCT as written."""
    if not node.unique:
        return []
    if node.if_not_exists and node.idxname and ctx.find_index(node.idxname) is not None:
        return []  # IF NOT EXISTS and the target has it: nothing is built
    columns: list[str] = []
    keys: list[str] = []
    any_expr = False
    for elem in node.indexParams or ():
        if elem.name:
            columns.append(elem.name)
            key = quote_ident(ctx.column_name(elem.name))
        else:
            any_expr = True
            key = deparse(elem.expr)
            columns += [c for c in columns_in(elem.expr) if c not in columns]
            if not key.startswith("(") and not isinstance(elem.expr, ast.FuncCall):
                key = f"({key})"
        if elem.collation:
            key += " COLLATE " + ".".join(quote_ident(s.sval) for s in elem.collation)
            any_expr = True
        keys.append(key)
    predicate = deparse(node.whereClause) if node.whereClause is not None else None
    return unique_check(
        ctx,
        tuple(columns),
        tuple(keys) if any_expr else (),
        predicate=predicate,
        nulls_not_distinct=bool(node.nulls_not_distinct),
    )
