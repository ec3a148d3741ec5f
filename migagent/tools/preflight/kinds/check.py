"""CHECK constraints: rows for which the expression is false (NULL passes, as in PostgreSQL)."""

from __future__ import annotations

from pglast import ast
from pglast.enums import ConstrType, NullTestType

from migagent.tools.preflight.context import PlanContext, columns_in, deparse, short
from migagent.tools.preflight.kinds.not_null import not_null_check
from migagent.tools.preflight.kinds.registry import kind
from migagent.tools.preflight.model import PreflightCheck


def _is_not_null_of(expr: object) -> str | None:
    """`col IS NOT NULL` -> col: the CHECK that prepares a safe SET NOT NULL."""
    if (
        not isinstance(expr, ast.NullTest)
        or expr.nulltesttype != NullTestType.IS_NOT_NULL
        or not isinstance(expr.arg, ast.ColumnRef)
        or not expr.arg.fields
    ):
        return None
    last = expr.arg.fields[-1]
    return last.sval if isinstance(last, ast.String) else None


@kind(ConstrType.CONSTR_CHECK)
def check_constraint(con: ast.Constraint, ctx: PlanContext) -> list[PreflightCheck]:
    column = _is_not_null_of(con.raw_expr)
    if column is not None:
        return not_null_check(ctx, column)
    expression = deparse(con.raw_expr)
    return [
        ctx.check(
            "check",
            columns=tuple(columns_in(con.raw_expr)),
            expression=expression,
            exactness="exact: evaluates the expression on every row; false is a violation",
            fix=(
                f"fix those rows first; find them with SELECT * FROM {short(ctx.table)}"
                f" WHERE NOT ({expression})"
            ),
        )
    ]
