"""Changes that break running code or lose data: renames, drops, TRUNCATE, enum values."""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType, DropBehavior, ObjectType

from migagent.tools.lint.rules.base import (
    RuleContext,
    autocommit,
    cmds,
    names,
    op_execute,
    py,
    qident,
    rule,
    table_of,
)
from migagent.tools.lint.statements import Statement
from migagent.tools.pgast import bare_relname, cmd_name, node_as, relation, relname


@rule(
    "rename-column",
    "Renaming a column breaks every running query that uses the old name",
    ast.RenameStmt,
)
def rename_column(stmt: Statement, c: RuleContext):
    node = node_as(stmt.node, ast.RenameStmt)
    if node.renameType != ObjectType.OBJECT_COLUMN or node.relationType != ObjectType.OBJECT_TABLE:
        return
    rv, old, new = node.relation, node.subname, node.newname
    if rv is None or old is None or new is None:  # RENAME COLUMN always names all three
        return
    table = table_of(rv)
    if c.created(table):
        return
    typ = c.column_type(table, old)
    rel = relname(rv)
    add = (
        op_execute(f"ALTER TABLE {rel} ADD COLUMN {qident(new)} {typ}")
        if typ
        else f"# op.add_column({py(bare_relname(rv))}, sa.Column({py(new)}, <the type of {old}>))"
    )
    fix = (
        "# expand/contract over several releases instead of renaming in place:\n"
        f"# 1. add {new} and write both columns from the application (or a trigger)\n"
        f"{add}\n"
        f"# 2. backfill {new} from {old} in batches; 3. switch reads to {new};\n"
        f"# 4. in a later migration: op.drop_column({py(bare_relname(rv))}, {py(old)})"
    )
    yield c.finding(
        "rename-column",
        f"Renaming {table}.{old} to {new} breaks application code still using {old} between"
        " the migration and the deploy (and takes ACCESS EXCLUSIVE).",
        table=table,
        lock="ACCESS EXCLUSIVE",
        severity="warning",
        fix=fix,
    )


@rule(
    "rename-table",
    "Renaming a table breaks every running query that uses the old name",
    ast.RenameStmt,
)
def rename_table(stmt: Statement, c: RuleContext):
    node = node_as(stmt.node, ast.RenameStmt)
    rv, newname = node.relation, node.newname
    if node.renameType != ObjectType.OBJECT_TABLE or rv is None or newname is None:
        return
    table = table_of(rv)
    if c.created(table):
        return
    schema = rv.schemaname
    old = relname(rv)
    new = f"{schema}.{newname}" if schema else newname
    fix = "\n".join(
        [
            f"op.rename_table({py(bare_relname(rv))}, {py(newname)}"
            + (f", schema={py(schema)}" if schema else "")
            + ")",
            "# keep the old name working for code not yet deployed (a simple view is updatable);",
            "# drop the view in a later migration",
            op_execute(f"CREATE VIEW {old} AS SELECT * FROM {new}"),
        ]
    )
    yield c.finding(
        "rename-table",
        f"Renaming {table} to {node.newname} breaks application code still using the old name"
        " (and takes ACCESS EXCLUSIVE).",
        table=table,
        lock="ACCESS EXCLUSIVE",
        severity="warning",
        fix=fix,
    )


@rule(
    "drop-column",
    "Dropping a column loses its data and breaks code that still uses it",
    ast.AlterTableStmt,
)
def drop_column(stmt: Statement, c: RuleContext):
    rv = relation(node_as(stmt.node, ast.AlterTableStmt))
    table = table_of(rv)
    if c.created(table):
        return
    for cmd in cmds(stmt):
        if cmd.subtype != AlterTableType.AT_DropColumn:
            continue
        fix = (
            f"# first ship code that no longer reads or writes {cmd.name} (for SQLAlchemy models,\n"
            "# mark it deferred/removed), then drop it in a later migration:\n"
            f"op.drop_column({py(bare_relname(rv))}, {py(cmd_name(cmd))}"
            + (f", schema={py(rv.schemaname)}" if rv.schemaname else "")
            + ")"
        )
        yield c.finding(
            "drop-column",
            f"DROP COLUMN {table}.{cmd.name} deletes its data irreversibly and breaks running"
            " code that selects or inserts it (takes ACCESS EXCLUSIVE briefly; no rewrite).",
            table=table,
            lock="ACCESS EXCLUSIVE",
            severity="warning",
            fix=fix,
        )


@rule(
    "drop-table", "Dropping a table loses its data and breaks code that still uses it", ast.DropStmt
)
def drop_table(stmt: Statement, c: RuleContext):
    node = node_as(stmt.node, ast.DropStmt)
    if node.removeType != ObjectType.OBJECT_TABLE:
        return
    for obj in node.objects or ():
        table = names(obj).lower()
        if c.created(table):
            continue
        cascade = node.behavior == DropBehavior.DROP_CASCADE
        yield c.finding(
            "drop-table",
            f"DROP TABLE {table} deletes its data irreversibly and breaks running code that uses"
            " it"
            + (" (CASCADE also drops dependent views and foreign keys)" if cascade else "")
            + ".",
            table=table,
            lock="ACCESS EXCLUSIVE",
            severity="warning",
            fix=(
                f"# ship code that no longer uses {table} first; keep a backup or rename it aside\n"
                f"op.rename_table({py(table.rpartition('.')[2])}, {py('_dropped_' + table.rpartition('.')[2])})\n"
                "# and drop it in a later migration once nothing needs it"
            ),
        )


@rule(
    "drop-database",
    "Dropping a database deletes every table in it, irreversibly; never from a migration",
    ast.DropdbStmt,
)
def drop_database(stmt: Statement, c: RuleContext):
    node = node_as(stmt.node, ast.DropdbStmt)
    force = any(o.defname == "force" for o in node.options or ())
    yield c.finding(
        "drop-database",
        f"DROP DATABASE {node.dbname} deletes the whole database (every table, every row)"
        " irreversibly"
        + (", terminating every session connected to it (FORCE)" if force else "")
        + "; a migration runs against one database and must never drop one. It cannot run"
        " in a transaction block either.",
        severity="error",
        fix=(
            "# a revision changes objects inside the database it runs on: drop a database\n"
            f"# by hand after a backup (dropdb --if-exists {node.dbname}), not from a migration.\n"
            "# To retire this database's own tables, drop each in its own later revision:\n"
            'op.drop_table("...")'
        ),
    )


@rule("truncate", "TRUNCATE deletes every row and takes ACCESS EXCLUSIVE", ast.TruncateStmt)
def truncate(stmt: Statement, c: RuleContext):
    node = node_as(stmt.node, ast.TruncateStmt)
    for rv in node.relations or ():
        table = table_of(rv)
        if c.created(table):
            continue
        cascade = node.behavior == DropBehavior.DROP_CASCADE
        yield c.finding(
            "truncate",
            f"TRUNCATE {table} deletes every row irreversibly and takes ACCESS EXCLUSIVE"
            + (" — CASCADE also empties every table that references it" if cascade else "")
            + ".",
            table=table,
            lock="ACCESS EXCLUSIVE",
            severity="error" if cascade else "warning",
            fix=(
                "# delete in batches instead, outside the migration's transaction:\n"
                + autocommit(
                    "conn = op.get_bind()\n"
                    "while conn.execute(sa.text(\n"
                    f"    {py(f'DELETE FROM {relname(rv)} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {relname(rv)} LIMIT 10000))')}\n"
                    ")).rowcount:\n"
                    "    pass"
                )
            ),
        )


@rule(
    "enum-add-value",
    "A new enum value is unknown to running code; before PostgreSQL 12 it cannot be added in a transaction",
    ast.AlterEnumStmt,
)
def enum_add_value(stmt: Statement, c: RuleContext):
    node = node_as(stmt.node, ast.AlterEnumStmt)
    if node.oldVal:
        return
    enum = names(node.typeName)
    fix = autocommit(op_execute(f"ALTER TYPE {enum} ADD VALUE IF NOT EXISTS '{node.newVal}'"))
    if c.ctx.pg_version < 12 and stmt.in_transaction:
        yield c.finding(
            "enum-add-value",
            f"ALTER TYPE {enum} ADD VALUE cannot run inside a transaction block on PostgreSQL"
            f" {c.ctx.pg_version}; the migration fails.",
            severity="error",
            fix=fix,
        )
        return
    yield c.finding(
        "enum-add-value",
        f"Adding {node.newVal!r} to enum {enum}: code deployed before this migration cannot"
        " read the value, and it cannot be used until the transaction adding it commits.",
        severity="info",
        fix=fix,
    )


@rule(
    "enum-rename-value",
    "Renaming an enum value breaks running code that uses the old label",
    ast.AlterEnumStmt,
)
def enum_rename_value(stmt: Statement, c: RuleContext):
    node = node_as(stmt.node, ast.AlterEnumStmt)
    if not node.oldVal:
        return
    enum = names(node.typeName)
    yield c.finding(
        "enum-rename-value",
        f"Renaming {node.oldVal!r} to {node.newVal!r} in enum {enum} breaks code and stored"
        " queries that still use the old label.",
        severity="warning",
        fix=(
            "# add the new label, migrate rows in batches, switch the code, stop using the old one\n"
            + autocommit(op_execute(f"ALTER TYPE {enum} ADD VALUE IF NOT EXISTS '{node.newVal}'"))
        ),
    )
