"""Run the rules over a migration's statements, tracking what it has done so far."""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, NullTestType, ObjectType, VariableSetKind

from migagent.tools.lint.context import LintContext
from migagent.tools.lint.report import LintFinding, LintReport
from migagent.tools.lint.rules import rules_for
from migagent.tools.lint.rules.base import (
    IndexInfo,
    LintState,
    RuleContext,
    table_of,
    type_spec,
)
from migagent.tools.lint.statements import Statement
from migagent.tools.pgast import cmd_name, column_name, column_type, relation, svals


def _index_columns(node: ast.IndexStmt) -> list[str]:
    cols = []
    for p in node.indexParams or ():
        if not isinstance(p, ast.IndexElem) or p.name is None:
            break  # an expression: only the leading plain columns count
        cols.append(p.name)
    return cols


def _collect_indexes(stmts: list[Statement]) -> dict[str, list[list[str]]]:
    """Key-column lists of every index the migration creates, per table."""
    out: dict[str, list[list[str]]] = {}
    for s in stmts:
        node = s.node
        if isinstance(node, ast.IndexStmt):
            cols = _index_columns(node)
            if cols:
                out.setdefault(table_of(relation(node)), []).append(cols)
        elif isinstance(node, ast.CreateStmt):
            table = table_of(relation(node))
            for elt in node.tableElts or ():
                if isinstance(elt, ast.ColumnDef):
                    for con in elt.constraints or ():
                        if con.contype in (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE):
                            out.setdefault(table, []).append([column_name(elt)])
                elif isinstance(elt, ast.Constraint) and elt.contype in (
                    ConstrType.CONSTR_PRIMARY,
                    ConstrType.CONSTR_UNIQUE,
                ):
                    out.setdefault(table, []).append(svals(elt.keys))
        elif isinstance(node, ast.AlterTableStmt):
            table = table_of(relation(node))
            for cmd in node.cmds or ():
                d = cmd.def_
                if (
                    cmd.subtype == AlterTableType.AT_AddConstraint
                    and isinstance(d, ast.Constraint)
                    and d.contype in (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE)
                    and d.keys
                ):
                    out.setdefault(table, []).append(svals(d.keys))
    return out


def _not_null_column(con: ast.Constraint) -> str | None:
    """The column a CHECK (col IS NOT NULL) or NOT NULL constraint proves non-null."""
    keys = con.keys
    if con.contype == ConstrType.CONSTR_NOTNULL and keys and len(keys) == 1:
        return keys[0].sval
    expr = con.raw_expr
    if (
        con.contype != ConstrType.CONSTR_CHECK
        or not isinstance(expr, ast.NullTest)
        or expr.nulltesttype != NullTestType.IS_NOT_NULL
        or not isinstance(expr.arg, ast.ColumnRef)
    ):
        return None
    fields = expr.arg.fields
    if fields and len(fields) == 1 and isinstance(fields[0], ast.String):
        return fields[0].sval
    return None


def _set_value(node: ast.VariableSetStmt) -> str | None:
    if node.kind != VariableSetKind.VAR_SET_VALUE or not node.args:
        return None
    v = node.args[0]
    if isinstance(v, ast.A_Const):
        val = v.val
        return str(getattr(val, "sval", None) or getattr(val, "ival", None) or "")
    return None


def _set_lock_timeout(state: LintState, stmt: Statement, value: str | None, local: bool) -> None:
    enabled = value not in (None, "", "0")
    if local:
        state.lock_timeout_txn = stmt.txn if enabled and stmt.in_transaction else None
    else:
        state.lock_timeout_session = enabled


def apply(state: LintState, stmt: Statement) -> None:
    """Record what `stmt` did, for the rules that look at later statements."""
    node = stmt.node
    if isinstance(node, ast.CreateStmt):
        table = table_of(relation(node))
        state.created_tables.add(table)
        cols = state.column_types.setdefault(table, {})
        for elt in node.tableElts or ():
            if isinstance(elt, ast.ColumnDef) and elt.typeName is not None:
                cols[column_name(elt)] = type_spec(elt.typeName)
    elif isinstance(node, ast.CreateTableAsStmt) and node.into is not None:
        if node.into.rel is not None:
            state.created_tables.add(table_of(node.into.rel))
    elif isinstance(node, ast.IndexStmt) and node.idxname:
        rv = relation(node)
        key = node.idxname.lower()
        if rv.schemaname:
            key = f"{rv.schemaname}.{node.idxname}".lower()
        info = IndexInfo(
            table_of(rv), _index_columns(node), bool(node.concurrent), bool(node.unique)
        )
        state.created_indexes[key] = info
        state.created_indexes[node.idxname.lower()] = info
    elif isinstance(node, ast.AlterTableStmt):
        table = table_of(relation(node))
        for cmd in node.cmds or ():
            d = cmd.def_
            if cmd.subtype == AlterTableType.AT_AddColumn and isinstance(d, ast.ColumnDef):
                state.column_types.setdefault(table, {})[column_name(d)] = type_spec(column_type(d))
            elif cmd.subtype == AlterTableType.AT_AlterColumnType and isinstance(d, ast.ColumnDef):
                state.column_types.setdefault(table, {})[cmd_name(cmd)] = type_spec(column_type(d))
            elif cmd.subtype == AlterTableType.AT_AddConstraint and isinstance(d, ast.Constraint):
                name = d.conname
                col = _not_null_column(d)
                if d.skip_validation and name:
                    state.not_valid[(table, name)] = stmt.txn
                if name:
                    state.seen_constraints.add((table, name))
                if col and name:
                    state.not_null_constraints[(table, name)] = col
                if col and not d.skip_validation:
                    state.validated_not_null.add((table, col))
            elif cmd.subtype == AlterTableType.AT_ValidateConstraint:
                con = cmd_name(cmd)
                col = state.not_null_constraints.get((table, con))
                if col:
                    state.validated_not_null.add((table, col))
                elif (table, con) not in state.seen_constraints:
                    state.validated_unseen.setdefault(table, set()).add(con)
            elif cmd.subtype == AlterTableType.AT_DropConstraint:
                con = cmd_name(cmd)
                state.not_valid.pop((table, con), None)
                state.not_null_constraints.pop((table, con), None)
                state.validated_unseen.get(table, set()).discard(con)
            elif cmd.subtype == AlterTableType.AT_SetNotNull:
                state.validated_not_null.add((table, cmd_name(cmd)))
    elif isinstance(node, ast.RenameStmt) and node.relation is not None and node.newname:
        old = table_of(node.relation)
        if node.renameType == ObjectType.OBJECT_TABLE and old in state.created_tables:
            schema = node.relation.schemaname
            state.created_tables.add(
                f"{schema}.{node.newname}".lower() if schema else node.newname.lower()
            )
    elif isinstance(node, ast.VariableSetStmt) and node.name:
        name = node.name.lower()
        if name == "lock_timeout":
            _set_lock_timeout(state, stmt, _set_value(node), bool(node.is_local))
        elif name == "timezone":
            state.timezone = _set_value(node)
    elif isinstance(node, ast.SelectStmt):
        for target in node.targetList or ():
            f = getattr(target, "val", None)
            if isinstance(f, ast.FuncCall) and svals(f.funcname)[-1:] == ["set_config"] and f.args:
                args = [getattr(getattr(a, "val", None), "sval", None) for a in f.args]
                local = (
                    getattr(getattr(f.args[2], "val", None), "boolval", False)
                    if len(f.args) > 2
                    else False
                )
                if args[0] == "lock_timeout":
                    _set_lock_timeout(state, stmt, args[1] if len(args) > 1 else None, bool(local))


def run_rules(
    stmts: list[Statement],
    ctx: LintContext,
    *,
    files: list[str] | None = None,
    extra: list[LintFinding] | None = None,
) -> LintReport:
    """Lint a migration's statements in order and return the report."""
    state = LintState(migration_indexes=_collect_indexes(stmts))
    rc = RuleContext(ctx, state)
    report = LintReport(files=files or [], pg_version=ctx.pg_version, large_rows=ctx.large_rows)
    for stmt in stmts:
        rc.stmt = stmt
        for r in rules_for(stmt.node):
            for finding in r.check(stmt, rc):
                reason = stmt.suppressions.get(finding.rule, stmt.suppressions.get("all"))
                if reason is not None:
                    finding.suppressed = reason or "(no reason given)"
                    report.suppressed.append(finding)
                else:
                    report.findings.append(finding)
        apply(state, stmt)
    report.statements = sum(
        not s.synthetic and not isinstance(s.node, ast.TransactionStmt) for s in stmts
    )
    for f in extra or ():
        report.findings.append(f)
    return report.sort()
