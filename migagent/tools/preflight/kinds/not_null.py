"""NOT NULL: rows where the column is NULL make SET NOT NULL fail."""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from migagent.tools.pgast import cmd_name
from migagent.tools.preflight.context import PlanContext, not_null_fix
from migagent.tools.preflight.kinds.registry import kind
from migagent.tools.preflight.model import PreflightCheck

EXACT = "exact: counts the rows where the column IS NULL"


def not_null_check(ctx: PlanContext, column: str) -> list[PreflightCheck]:
    """The NULL question for one column; none when the target already forbids NULLs."""
    target = ctx.target_column(column)
    added = (ctx.table, ctx.column_name(column)) in ctx.state.added_columns
    if target is not None and not target.nullable and not ctx.created() and not added:
        return []
    return [
        ctx.check(
            "not_null",
            columns=(column,),
            exactness=EXACT,
            fix=not_null_fix(ctx.table, ctx.column_name(column)),
        )
    ]


@kind(AlterTableType.AT_SetNotNull)
def set_not_null(cmd: ast.AlterTableCmd, ctx: PlanContext) -> list[PreflightCheck]:
    return not_null_check(ctx, cmd_name(cmd))


_FILLS = {ConstrType.CONSTR_DEFAULT, ConstrType.CONSTR_IDENTITY, ConstrType.CONSTR_GENERATED}


@kind(AlterTableType.AT_AddColumn)
def add_column_not_null(cmd: ast.AlterTableCmd, ctx: PlanContext) -> list[PreflightCheck]:
    """ADD COLUMN ... NOT NULL with nothing to fill it fails on a table that has rows."""
    col = cmd.def_
    if not isinstance(col, ast.ColumnDef):
        return []
    types = {c.contype for c in col.constraints or () if isinstance(c, ast.Constraint)}
    required = ConstrType.CONSTR_NOTNULL in types or ConstrType.CONSTR_PRIMARY in types
    if not required or types & _FILLS or col.raw_default is not None:
        return []
    return [
        ctx.check(
            "add_column_not_null",
            columns=(),
            exactness="exact: counts the table's rows (each would get NULL)",
            fix=(
                f"give {col.colname} a DEFAULT, or add it nullable, backfill it, then SET NOT NULL"
            ),
        )
    ]
