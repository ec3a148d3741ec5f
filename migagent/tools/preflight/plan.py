"""Planning: the revision's upgrade statements -> the questions they ask of the target's rows.

Pure: reads the revision (offline, through the linter's capture) and the
snapshot, never a database. Each statement is dispatched to the kind functions
registered for it, then `_track` records what it did (tables and columns it
creates, renames, NOT VALID constraints waiting for VALIDATE, enum labels,
rows it writes) so later statements are asked about in the target's names.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, ObjectType

from migagent.tools.introspect.model import SchemaSnapshot
from migagent.tools.lint.revision import revision_statements
from migagent.tools.lint.statements import Statement, split_sql
from migagent.tools.pgast import column_name, relation, svals
from migagent.tools.preflight.context import PlanContext, PlanState, qualify, rv_name
from migagent.tools.preflight.kinds import checks_for
from migagent.tools.preflight.model import PreflightCheck


@dataclass
class Plan:
    checks: list[PreflightCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def plan_checks(source: str, snapshot: SchemaSnapshot) -> list[PreflightCheck]:
    """The data-dependent checks of a revision's upgrade, in statement order."""
    return plan(source, snapshot).checks


def plan(source: str, snapshot: SchemaSnapshot, filename: str = "<revision>") -> Plan:
    captured = revision_statements(source, filename, "upgrade")
    out = plan_statements(_unescape_percent(captured.statements), snapshot)
    if captured.stopped:
        line, why = captured.stopped
        out.notes.append(
            f"upgrade() stopped at line {line} in offline mode ({why}): the statements after it"
            " were not checked against the target"
        )
    return out


_PROBE = "from alembic import op\nrevision = 'p'\ndown_revision = None\n\ndef upgrade():\n    op.execute(\"SELECT '%'\")\n"


@functools.cache
def _capture_doubles_percent() -> bool:
    """Whether the offline capture renders `%` as `%%` (SQLAlchemy's psycopg2 dialect
    escapes it for pyformat parameters): `a % 2` would reach the target as the
    nonexistent operator `%%`, and `LIKE '%x'` as a different pattern."""
    return "%%" in revision_statements(_PROBE, "<probe>").statements[0].sql


def _unescape_percent(statements: list[Statement]) -> list[Statement]:
    if not _capture_doubles_percent():
        return statements
    out = []
    for s in statements:
        if "%%" in s.sql:
            text = s.sql.replace("%%", "%")
            s = dataclasses.replace(s, sql=text, node=split_sql(text)[0].node)
        out.append(s)
    return out


def plan_statements(statements: list[Statement], snapshot: SchemaSnapshot) -> Plan:
    state = PlanState()
    out = Plan()
    for index, stmt in enumerate(statements):
        if stmt.synthetic:
            continue
        node = stmt.node
        relation = getattr(node, "relation", None)
        ctx = PlanContext(
            snapshot,
            state,
            index,
            stmt,
            current=rv_name(relation) if isinstance(relation, ast.RangeVar) else None,
        )
        for check in _checks(node, ctx):
            if check.key() in state.planned:
                continue
            state.planned.add(check.key())
            out.checks.append(check)
        _track(node, ctx)
    return out


def _checks(node: ast.Node, ctx: PlanContext) -> list[PreflightCheck]:
    if not isinstance(node, ast.AlterTableStmt):
        return checks_for(type(node), node, ctx)
    if node.objtype != ObjectType.OBJECT_TABLE:
        return []
    if node.missing_ok and ctx.target_table() is None and not ctx.created():
        return []  # ALTER TABLE IF EXISTS on a table the target does not have: a no-op
    out: list[PreflightCheck] = []
    for cmd in node.cmds or ():
        con = cmd.def_
        if cmd.subtype == AlterTableType.AT_AddConstraint and isinstance(con, ast.Constraint):
            found = checks_for(con.contype, con, ctx)
            if con.skip_validation:  # NOT VALID: existing rows meet it at VALIDATE
                ctx.state.pending[(ctx.table, _con_name(ctx.table, con))] = found
                continue
            out += found
        else:
            out += checks_for(cmd.subtype, cmd, ctx)
    return out


def _con_name(table: str, con: ast.Constraint) -> str:
    """The constraint's name, or the one PostgreSQL would give it."""
    if con.conname:
        return con.conname
    cols = [k.sval for k in (con.fk_attrs or con.keys or ())]
    suffix = "fkey" if con.contype == ConstrType.CONSTR_FOREIGN else "check"
    return f"{table.rpartition('.')[2]}_{'_'.join(cols)}_{suffix}"


def _qualified(name: tuple[object, ...] | None) -> str:
    """A type's name (`schema.name` or `name`) as the target knows it (`public.name`)."""
    names = svals(name)
    return qualify(names[0], names[1]) if len(names) == 2 else qualify(None, names[-1])


def _track(node: ast.Node, ctx: PlanContext) -> None:
    state = ctx.state
    where = f"statement {ctx.index}"
    if isinstance(node, ast.CreateStmt | ast.CreateTableAsStmt):
        rel = node.relation if isinstance(node, ast.CreateStmt) else node.into and node.into.rel
        if rel is not None:
            state.created_tables.add(rv_name(rel))
    elif isinstance(node, ast.AlterTableStmt) and ctx.current:
        for cmd in node.cmds or ():
            if cmd.subtype == AlterTableType.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
                state.added_columns.add((ctx.table, column_name(cmd.def_)))
    elif isinstance(node, ast.RenameStmt) and node.relation is not None:
        current = rv_name(node.relation)
        target = ctx.target_name(current)
        if node.renameType == ObjectType.OBJECT_TABLE:
            schema = current.split(".", 1)[0]
            state.table_names[f"{schema}.{node.newname}"] = target
            if current in state.created_tables:
                state.created_tables.add(f"{schema}.{node.newname}")
        elif node.renameType == ObjectType.OBJECT_COLUMN and node.subname and node.newname:
            old, new = node.subname, node.newname
            original = state.column_names.get((target, old), old)
            state.column_names[(target, new)] = original
            if (target, old) in state.added_columns:
                state.added_columns.add((target, new))
    elif isinstance(node, ast.IndexStmt) and ctx.current:
        if node.idxname:
            cols = tuple(e.name for e in node.indexParams or () if e.name)
            state.created_indexes[node.idxname] = (ctx.table, cols)
    elif isinstance(node, ast.CreateEnumStmt):
        name = _qualified(node.typeName)
        state.created_types.add(name)
        state.enum_labels[name] = [v.sval for v in node.vals or ()]
    elif isinstance(node, ast.AlterEnumStmt) and node.newVal and not node.oldVal:
        name = _qualified(node.typeName)
        labels = state.enum_labels.get(name)
        if labels is None and name in ctx.snapshot.enums:
            labels = list(ctx.snapshot.enums[name].labels)
        if labels is not None:
            state.enum_labels[name] = [*labels, node.newVal]
    elif isinstance(node, ast.CreateDomainStmt):
        state.created_types.add(_qualified(node.domainname))
    elif isinstance(node, ast.CompositeTypeStmt) and node.typevar is not None:
        state.created_types.add(rv_name(node.typevar))
    elif isinstance(node, ast.InsertStmt | ast.UpdateStmt | ast.DeleteStmt):
        verb = type(node).__name__.removesuffix("Stmt").upper()
        state.written.setdefault(ctx.target_name(rv_name(relation(node))), f"{verb} at {where}")
