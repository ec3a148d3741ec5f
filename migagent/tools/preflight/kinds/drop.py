"""DROP COLUMN / DROP TABLE: what the target would lose (information for the spec)."""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType, ObjectType

from migagent.tools.pgast import cmd_name
from migagent.tools.preflight.context import PlanContext, qualify
from migagent.tools.preflight.kinds.registry import kind
from migagent.tools.preflight.model import PreflightCheck


@kind(AlterTableType.AT_DropColumn)
def drop_column(cmd: ast.AlterTableCmd, ctx: PlanContext) -> list[PreflightCheck]:
    column = cmd_name(cmd)
    if ctx.target_column(column) is None and cmd.missing_ok:
        return []
    return [
        ctx.check(
            "drop_column",
            columns=(column,),
            exactness="exact: counts the non-null values",
            fix="keep a copy first if the values matter (e.g. a backup table or an export)",
        )
    ]


@kind(ast.DropStmt)
def drop_table(node: ast.DropStmt, ctx: PlanContext) -> list[PreflightCheck]:
    if node.removeType != ObjectType.OBJECT_TABLE:
        return []
    out = []
    for obj in node.objects or ():
        parts = [s.sval for s in obj]
        table = ctx.target_name(qualify(*parts) if len(parts) == 2 else qualify(None, parts[-1]))
        if table not in ctx.snapshot.tables or ctx.created(table):
            continue
        out.append(
            ctx.check(
                "drop_table",
                table=table,
                exactness="exact: counts the rows",
                fix="keep a copy first if the rows matter (e.g. pg_dump -t or CREATE TABLE ... AS)",
            )
        )
    return out
