"""VALIDATE CONSTRAINT: where a NOT VALID constraint meets the existing rows."""

from __future__ import annotations

from pglast import ast, parse_sql
from pglast.enums import AlterTableType

from migagent.tools.pgast import cmd_name
from migagent.tools.preflight.context import PlanContext
from migagent.tools.preflight.kinds.registry import checks_for, kind
from migagent.tools.preflight.model import PreflightCheck
from migagent.tools.sql import quote_ident, quote_table


@kind(AlterTableType.AT_ValidateConstraint)
def validate(cmd: ast.AlterTableCmd, ctx: PlanContext) -> list[PreflightCheck]:
    """The check deferred from this revision's ADD ... NOT VALID, or, for a constraint the
    target already has NOT VALID, the check its definition asks for."""
    name = cmd_name(cmd)
    pending = ctx.state.pending.get((ctx.table, name))
    if pending is not None:
        at = {"statement_index": ctx.index, "statement_line": ctx.stmt.line, "sql": ctx.stmt.sql}
        return [
            c.model_copy(
                update={**at, "written_by": c.written_by or ctx.state.written.get(c.table)}
            )
            for c in pending
        ]
    t = ctx.target_table()
    con = next((c for c in t.constraints if c.name == name), None) if t else None
    if con is None or con.validated:
        return []  # unknown constraint (the proof reports it) or VALIDATE is a no-op
    text = f"ALTER TABLE {quote_table(ctx.table)} ADD CONSTRAINT {quote_ident(con.name)} {con.definition}"
    alter = parse_sql(text)[0].stmt
    if not isinstance(alter, ast.AlterTableStmt) or not alter.cmds:
        return []  # the text above is always one ALTER TABLE ... ADD CONSTRAINT
    node = alter.cmds[0].def_
    if not isinstance(node, ast.Constraint):
        return []
    return checks_for(node.contype, node, ctx)
