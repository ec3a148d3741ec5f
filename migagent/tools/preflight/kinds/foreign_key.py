"""Foreign keys: child rows whose key is non-null and has no parent row (orphans)."""

from __future__ import annotations

from pglast import ast
from pglast.enums import ConstrType

from migagent.tools.preflight.context import PlanContext, short
from migagent.tools.preflight.kinds.registry import kind
from migagent.tools.preflight.model import PreflightCheck
from migagent.tools.sql import quote_ident


@kind(ConstrType.CONSTR_FOREIGN)
def foreign_key(con: ast.Constraint, ctx: PlanContext) -> list[PreflightCheck]:
    """Orphans under the constraint's MATCH rule; against a parent that this revision
    creates (no rows yet), every child row with a non-null key is one."""
    columns = tuple(k.sval for k in con.fk_attrs or ())
    if con.pktable is None:  # a FOREIGN KEY always names its parent table
        return []
    parent = ctx.resolve(con.pktable)
    ref_created = ctx.created(parent)
    ref_columns = tuple(k.sval for k in con.pk_attrs or ())
    p = ctx.target_table(parent)
    skip, skip_status = None, "info"
    if not ref_columns and p is not None:
        pk = next((c for c in p.constraints if c.kind == "primary_key"), None)
        ref_columns = tuple(pk.columns) if pk else ()
    if p is None and not ref_created:
        skip, skip_status = f"the parent {parent} does not exist on the target", "unknown"
    elif not ref_created and not ref_columns:
        skip, skip_status = f"{parent} has no primary key to reference", "unknown"
    ref_columns = tuple(ctx.column_name(c, parent) for c in ref_columns)
    match_full = con.fk_matchtype == "f"
    child = short(ctx.table)
    cond = " AND ".join(
        f"{quote_ident(r)} = {child}.{quote_ident(ctx.column_name(c))}"
        for c, r in zip(columns, ref_columns, strict=False)
    )
    nonnull = " AND ".join(f"{quote_ident(ctx.column_name(c))} IS NOT NULL" for c in columns)
    fix = (
        f"delete the orphans or set them to NULL first, e.g. DELETE FROM {child} WHERE {nonnull}"
        f" AND NOT EXISTS (SELECT 1 FROM {short(parent)} WHERE {cond})"
    )
    rule = "MATCH FULL: a partly NULL key is a violation" if match_full else "NULL keys pass"
    return [
        ctx.check(
            "foreign_key",
            columns=columns,
            ref_table=parent,
            ref_columns=ref_columns,
            ref_created=ref_created,
            match_full=match_full,
            skip=skip,
            skip_status=skip_status,
            exactness=f"exact: counts child rows with no parent row by = on the key ({rule})",
            fix=fix,
        )
    ]
