"""Constraints: validation scans, index builds behind UNIQUE/PRIMARY KEY, FK indexes."""

from __future__ import annotations

import copy
from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from migagent.tools.lint.rules.base import (
    RuleContext,
    autocommit,
    cmds,
    names,
    op_execute,
    py,
    qident,
    rule,
    sql_of,
    table_of,
)
from migagent.tools.lint.statements import Statement
from migagent.tools.pgast import (
    bare_relname,
    cmd_name,
    column_name,
    node_as,
    relation,
    relname,
    svals,
)


def _added(stmt: Statement) -> Iterator[tuple[ast.AlterTableCmd, ast.Constraint]]:
    for cmd in cmds(stmt):
        if cmd.subtype == AlterTableType.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
            yield cmd, cmd.def_


def _con_name(table: str, con: ast.Constraint, suffix: str) -> str:
    if con.conname:
        return con.conname
    cols = svals(con.fk_attrs or con.keys)
    return f"{table.rpartition('.')[2]}_{'_'.join(cols) or 'check'}_{suffix}"


#: constraints that can be added NOT VALID, by the name ADD uses for them
_NOT_VALID_KINDS: dict[ConstrType | None, str] = {
    ConstrType.CONSTR_FOREIGN: "FOREIGN KEY",
    ConstrType.CONSTR_CHECK: "CHECK",
    ConstrType.CONSTR_NOTNULL: "NOT NULL",
}


@rule(
    "constraint-without-not-valid",
    "Adding a FOREIGN KEY, CHECK or NOT NULL constraint validates every row under lock; add it NOT VALID",
    ast.AlterTableStmt,
)
def constraint_without_not_valid(stmt: Statement, c: RuleContext):
    rv = relation(node_as(stmt.node, ast.AlterTableStmt))
    table = table_of(rv)
    if c.created(table):
        return
    for _cmd, con in _added(stmt):
        if con.contype not in (
            ConstrType.CONSTR_FOREIGN,
            ConstrType.CONSTR_CHECK,
            ConstrType.CONSTR_NOTNULL,
        ):
            continue
        if con.skip_validation:
            continue
        if con.contype == ConstrType.CONSTR_NOTNULL and c.ctx.pg_version < 18:
            continue  # NOT NULL as a table constraint is new in 18; older servers reject it
        kind = _NOT_VALID_KINDS[con.contype]
        if con.contype == ConstrType.CONSTR_FOREIGN:
            lock = "SHARE ROW EXCLUSIVE"
            held = f"SHARE ROW EXCLUSIVE on {table} and {relname(con.pktable)} (writes blocked)"
        else:
            lock = "ACCESS EXCLUSIVE"
            held = f"ACCESS EXCLUSIVE on {table} (reads and writes blocked)"
        name = _con_name(table, con, "fkey" if kind == "FOREIGN KEY" else "check")
        named = copy.deepcopy(con)
        named.conname = name
        named.skip_validation = True
        named.initially_valid = False
        add_sql = f"ALTER TABLE {relname(rv)} ADD {sql_of(named)}"
        fix = "\n".join(
            [
                op_execute(add_sql),
                autocommit(
                    op_execute(f"ALTER TABLE {relname(rv)} VALIDATE CONSTRAINT {qident(name)}")
                ),
            ]
        )
        yield c.finding(
            "constraint-without-not-valid",
            f"ADD {kind} checks every existing row of {table} while holding {held}; add it NOT"
            " VALID, then VALIDATE CONSTRAINT in a later transaction (SHARE UPDATE EXCLUSIVE, no"
            " blocking).",
            table=table,
            lock=lock,
            scans=True,
            fix=fix,
        )


@rule(
    "validate-same-transaction",
    "VALIDATE CONSTRAINT in the transaction that added it NOT VALID keeps the strong lock during the scan",
    ast.AlterTableStmt,
)
def validate_same_transaction(stmt: Statement, c: RuleContext):
    table = table_of(relation(node_as(stmt.node, ast.AlterTableStmt)))
    if c.created(table):
        return
    for cmd in cmds(stmt):
        if cmd.subtype != AlterTableType.AT_ValidateConstraint:
            continue
        txn = c.state.not_valid.get((table, cmd_name(cmd)))
        if txn is None or not stmt.in_transaction or txn != stmt.txn:
            continue
        yield c.finding(
            "validate-same-transaction",
            f"VALIDATE CONSTRAINT {cmd.name} runs in the same transaction that added it NOT VALID,"
            f" so the lock taken by ADD CONSTRAINT on {table} is still held during the full scan;"
            " commit in between.",
            table=table,
            lock="ACCESS EXCLUSIVE",
            scans=True,
            fix=autocommit(op_execute(stmt.sql)),
        )


@rule(
    "unique-constraint-builds-index",
    "ADD UNIQUE / PRIMARY KEY builds its index under ACCESS EXCLUSIVE; use a concurrently built index",
    ast.AlterTableStmt,
)
def unique_constraint(stmt: Statement, c: RuleContext):
    rv = relation(node_as(stmt.node, ast.AlterTableStmt))
    table = table_of(rv)
    if c.created(table):
        return
    rel = relname(rv)
    found: list[tuple[ast.Constraint, list[str]]] = []
    for cmd in cmds(stmt):
        if cmd.subtype == AlterTableType.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
            con = cmd.def_
            if (
                con.contype in (ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_PRIMARY)
                and not con.indexname
            ):
                found.append((con, svals(con.keys)))
        elif cmd.subtype == AlterTableType.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
            col = cmd.def_
            for con in col.constraints or ():
                if isinstance(con, ast.Constraint) and con.contype in (
                    ConstrType.CONSTR_UNIQUE,
                    ConstrType.CONSTR_PRIMARY,
                ):
                    found.append((con, [column_name(col)]))
    for con, cols in found:
        kind = "PRIMARY KEY" if con.contype == ConstrType.CONSTR_PRIMARY else "UNIQUE"
        suffix = "pkey" if kind == "PRIMARY KEY" else "key"
        name = con.conname or f"{table.rpartition('.')[2]}_{'_'.join(cols)}_{suffix}"
        index = name if kind == "UNIQUE" else f"{name}_idx"
        col_list = "[" + ", ".join(py(x) for x in cols) + "]"
        create = (
            f"op.create_index({py(index)}, {py(bare_relname(rv))}, {col_list}, unique=True"
            + (f", schema={py(rv.schemaname)}" if rv.schemaname else "")
            + ", postgresql_concurrently=True)"
        )
        fix = "\n".join(
            [
                autocommit(create),
                op_execute(
                    f"ALTER TABLE {rel} ADD CONSTRAINT {qident(name)} {kind} USING INDEX {qident(index)}"
                ),
            ]
        )
        yield c.finding(
            "unique-constraint-builds-index",
            f"ADD {kind} ({', '.join(cols)}) builds a unique index on {table} while holding ACCESS"
            " EXCLUSIVE (no reads or writes); build the index CONCURRENTLY first and attach it"
            " with USING INDEX.",
            table=table,
            lock="ACCESS EXCLUSIVE",
            scans=True,
            fix=fix,
        )


def foreign_keys(node: ast.Node) -> Iterator[tuple[str, list[str], str | None]]:
    """(table, fk columns, referenced table) for every FK a statement declares."""
    if isinstance(node, ast.CreateStmt):
        table = table_of(relation(node))
        for elt in node.tableElts or ():
            if isinstance(elt, ast.ColumnDef):
                for con in elt.constraints or ():
                    if con.contype == ConstrType.CONSTR_FOREIGN:
                        yield table, [column_name(elt)], relname(con.pktable)
            elif isinstance(elt, ast.Constraint) and elt.contype == ConstrType.CONSTR_FOREIGN:
                yield table, svals(elt.fk_attrs), relname(elt.pktable)
    elif isinstance(node, ast.AlterTableStmt):
        table = table_of(relation(node))
        for cmd in node.cmds or ():
            d = cmd.def_
            if cmd.subtype == AlterTableType.AT_AddConstraint and isinstance(d, ast.Constraint):
                if d.contype == ConstrType.CONSTR_FOREIGN:
                    yield table, svals(d.fk_attrs), relname(d.pktable)
            elif cmd.subtype == AlterTableType.AT_AddColumn and isinstance(d, ast.ColumnDef):
                for con in d.constraints or ():
                    if con.contype == ConstrType.CONSTR_FOREIGN:
                        yield table, [column_name(d)], relname(con.pktable)


@rule(
    "foreign-key-without-index",
    "A foreign key whose columns lead no index makes deletes/updates of the parent scan the child",
    ast.CreateStmt,
    ast.AlterTableStmt,
)
def foreign_key_without_index(stmt: Statement, c: RuleContext):
    for table, cols, parent in foreign_keys(stmt.node):
        covered = c.has_index(table, cols)
        if covered:
            continue
        bare = table.rpartition(".")[2]
        schema = table.rpartition(".")[0]
        index = f"ix_{bare}_{'_'.join(cols)}"
        col_list = "[" + ", ".join(py(x) for x in cols) + "]"
        fix = (
            f"op.create_index({py(index)}, {py(bare)}, {col_list}"
            + (f", schema={py(schema)}" if schema else "")
            + ")"
        )
        if not c.created(table):
            fix = autocommit(fix[:-1] + ", postgresql_concurrently=True)")
        unknown = covered is None
        yield c.finding(
            "foreign-key-without-index",
            f"Foreign key {table}({', '.join(cols)}) -> {parent} has no index on"
            f" ({', '.join(cols)}): every DELETE or key UPDATE on {parent} scans {table}."
            + (" (Existing indexes unknown: pass --db to check.)" if unknown else ""),
            table=table,
            severity="info" if unknown else "warning",
            fix=fix,
        )


@rule(
    "domain-constraint",
    "ALTER DOMAIN ADD CONSTRAINT checks every column of that domain in every table",
    ast.AlterDomainStmt,
)
def domain_constraint(stmt: Statement, c: RuleContext):
    node = node_as(stmt.node, ast.AlterDomainStmt)
    added = node.def_
    if node.subtype != "C" or not isinstance(added, ast.Constraint):
        return
    if added.skip_validation:
        return
    domain = names(node.typeName)
    con = copy.deepcopy(added)
    conname = con.conname or f"{domain.rpartition('.')[2]}_check"
    con.conname = conname
    con.skip_validation = True
    con.initially_valid = False
    fix = "\n".join(
        [
            op_execute(f"ALTER DOMAIN {domain} ADD {sql_of(con)}"),
            autocommit(op_execute(f"ALTER DOMAIN {domain} VALIDATE CONSTRAINT {qident(conname)}")),
        ]
    )
    yield c.finding(
        "domain-constraint",
        f"ALTER DOMAIN {domain} ADD CONSTRAINT scans every table column of that type while"
        " holding SHARE locks on those tables (writes blocked); add it NOT VALID and validate later.",
        lock="SHARE",
        scans=True,
        severity="warning",
        fix=fix,
    )
