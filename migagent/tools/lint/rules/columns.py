"""Adding and changing columns."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from migagent.tools.lint.report import Severity
from migagent.tools.lint.rules.base import (
    RuleContext,
    TypeSpec,
    autocommit,
    cmds,
    op_execute,
    qident,
    rule,
    sql_of,
    table_of,
    type_spec,
    type_sql,
)
from migagent.tools.lint.statements import Statement
from migagent.tools.pgast import cmd_name, column_name, column_type, node_as, relation, svals
from migagent.tools.policy import rewrite_from_unknown, rewrite_needed

#: Built-in functions by name and signature, as PostgreSQL resolves a call: a call is the
#: built-in only when its argument count and the types of its literal arguments fit one
#: signature; anything else (`now(123)`, `lower(42)`, `myschema.now()`) is some other
#: function whose volatility is unknown. Parameter kinds: "text", "num" (numeric types),
#: "int", "bool", "any"; "*" is VARIADIC "any" (zero or more further arguments).
Signature = tuple[str, ...]

#: Functions PostgreSQL marks VOLATILE that show up as column defaults.
VOLATILE_SIGNATURES: dict[str, tuple[Signature, ...]] = {
    "random": ((), ("num", "num")),  # random(min, max): PostgreSQL 17
    "random_normal": ((), ("num",), ("num", "num")),
    "gen_random_uuid": ((),),
    "uuidv4": ((),),
    "uuidv7": ((), ("any",)),
    "uuid_generate_v1": ((),),
    "uuid_generate_v1mc": ((),),
    "uuid_generate_v4": ((),),
    "clock_timestamp": ((),),
    "timeofday": ((),),
    "nextval": (("any",),),
    "setval": (("any", "int"), ("any", "int", "bool")),
    "txid_current": ((),),
    "pg_current_xact_id": ((),),
}

#: Functions known to be STABLE or IMMUTABLE: a default using them is evaluated once.
NON_VOLATILE_SIGNATURES: dict[str, tuple[Signature, ...]] = {
    "now": ((),),
    "statement_timestamp": ((),),
    "transaction_timestamp": ((),),
    "current_setting": (("text",), ("text", "bool")),
    "lower": (("text",),),  # text, anyrange, anymultirange
    "upper": (("text",),),
    "length": (("text",), ("any", "text")),  # text, bytea, bit, tsvector; (bytea, name)
    "concat": (("*",),),
    "coalesce": (("any", "*"),),
    "to_jsonb": (("any",),),
    "to_json": (("any",),),
    "jsonb_build_object": (("*",),),
    "json_build_object": (("*",),),
    "jsonb_build_array": (("*",),),
    "array_length": (("any", "int"),),
    "make_interval": (("*",),),  # up to seven named or positional parts
    "date_trunc": (("text", "any"), ("text", "any", "text")),
    "timezone": (("any", "any"),),
    "to_timestamp": (("num",), ("text", "text")),
    "to_char": (("any", "text"),),
    "md5": (("text",),),  # text, bytea
    "abs": (("num",),),
    "round": (("num",), ("num", "int")),
    "int4": (("any",),),
    "int8": (("any",),),
    "text": (("any",),),
}

VOLATILE_FUNCTIONS = frozenset(VOLATILE_SIGNATURES)
NON_VOLATILE_FUNCTIONS = frozenset(NON_VOLATILE_SIGNATURES)

SERIAL_TYPES = {"serial", "bigserial", "smallserial", "serial4", "serial8", "serial2"}

#: parameter kind -> argument kinds it refuses (a literal of another type does not fit)
_REFUSES = {
    "text": {"int", "numeric", "bool"},
    "num": {"bool", "text"},
    "int": {"numeric", "bool", "text"},
    "bool": {"int", "numeric", "text"},
    "any": set(),
}
_TEXT_TYPES = {"text", "varchar", "bpchar", "char", "character", "character varying", "name"}
_INT_TYPES = {"int2", "int4", "int8", "smallint", "integer", "bigint", "int"}
_NUM_TYPES = {"numeric", "decimal", "float4", "float8", "real", "double precision"}


def _arg_kind(arg) -> str:
    """What PostgreSQL knows of an argument's type before resolving the call: a literal's
    type, a cast's type; "unknown" for a quoted literal or NULL (they fit any parameter),
    "any" for everything else (a column, another call: not judged)."""
    if isinstance(arg, ast.A_Const):
        if arg.isnull:
            return "unknown"
        val = arg.val
        if isinstance(val, ast.Integer):
            return "int"
        if isinstance(val, ast.Float):
            return "numeric"
        if isinstance(val, ast.Boolean):
            return "bool"
        return "unknown"  # 'quoted': resolved to the parameter's type
    if isinstance(arg, ast.TypeCast) and arg.typeName is not None:
        name = type_spec(arg.typeName).name
        if name in _TEXT_TYPES:
            return "text"
        if name in _INT_TYPES:
            return "int"
        if name in _NUM_TYPES:
            return "numeric"
        if name in ("bool", "boolean"):
            return "bool"
    return "any"


def _fits(kinds: list[str], sig: Signature) -> bool:
    fixed = [k for k in sig if k != "*"]
    if len(kinds) < len(fixed) or (len(kinds) > len(fixed) and "*" not in sig):
        return False
    return all(arg not in _REFUSES[param] for arg, param in zip(kinds, fixed, strict=False))


def _call(node: ast.FuncCall) -> tuple[str, bool | None]:
    """(the call as written, e.g. `now(123)`, and whether it is a known built-in:
    True volatile, False stable/immutable, None not a known signature)."""
    parts = [n.lower() for n in svals(node.funcname)]
    name = parts[-1]
    args = list(node.args or ())
    shown = f"{'.'.join(parts)}({', '.join(sql_of(a) for a in args)})"
    if len(parts) > 1 and parts[0] != "pg_catalog":
        return shown, None  # another schema's function of the same name
    if node.agg_star or node.agg_order or node.agg_filter or node.over or node.func_variadic:
        return shown, None
    kinds = [_arg_kind(a) for a in args]
    for table, volatile in ((VOLATILE_SIGNATURES, True), (NON_VOLATILE_SIGNATURES, False)):
        if any(_fits(kinds, sig) for sig in table.get(name, ())):
            return shown, volatile
    return shown, None


def _calls(node, out: list[tuple[str, bool | None]]) -> list[tuple[str, bool | None]]:
    """Every function call in an expression tree, resolved (a cheap walk)."""
    if isinstance(node, tuple | list):
        for item in node:
            _calls(item, out)
    elif isinstance(node, ast.Node):
        if isinstance(node, ast.FuncCall):
            out.append(_call(node))
        for name in node:  # pglast nodes iterate over their attribute names
            value = getattr(node, name)
            if isinstance(value, ast.Node | tuple | list):
                _calls(value, out)
    return out


def volatility(expr: ast.Node) -> tuple[str, list[str]]:
    """('volatile' | 'unknown' | 'stable', the calls that decided it, e.g. `now(123)`).

    A call counts as a built-in only when its name and its arguments fit one of the
    built-in's signatures; a call that fits none has unknown volatility."""
    calls = _calls(expr, [])
    vol = [shown for shown, v in calls if v is True]
    if vol:
        return "volatile", vol
    unknown = [shown for shown, v in calls if v is None]
    if unknown:
        return "unknown", unknown
    return "stable", []


def _default(col: ast.ColumnDef) -> ast.Node | None:
    for k in col.constraints or ():
        if k.contype == ConstrType.CONSTR_DEFAULT:
            return k.raw_expr
    return None


def _is_null_const(expr) -> bool:
    return isinstance(expr, ast.A_Const) and bool(expr.isnull)


def _not_null(col: ast.ColumnDef) -> bool:
    return bool(col.is_not_null) or any(
        k.contype in (ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_PRIMARY)
        for k in col.constraints or ()
    )


def _rewrite_kind(col: ast.ColumnDef) -> str | None:
    spec = type_spec(column_type(col))
    if spec.name in SERIAL_TYPES:
        return f"a {spec.name} column (its nextval() default is volatile)"
    for k in col.constraints or ():
        if k.contype == ConstrType.CONSTR_IDENTITY:
            return "an identity column (every row gets a sequence value)"
        if k.contype == ConstrType.CONSTR_GENERATED and k.generated_kind != "v":
            return "a stored generated column (computed for every row)"
    return None


def _add_columns(stmt: Statement):
    for cmd in cmds(stmt):
        if cmd.subtype == AlterTableType.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
            yield cmd.def_


def _bare_type(col: ast.ColumnDef) -> str:
    spec = type_spec(column_type(col))
    base = {"serial": "integer", "serial4": "integer", "bigserial": "bigint", "serial8": "bigint"}
    base |= {"smallserial": "smallint", "serial2": "smallint"}
    return base.get(spec.name, type_sql(column_type(col)))


def _backfill_fix(table: str, col: ast.ColumnDef, value: str, not_null: bool, pg: int) -> str:
    """Add nullable, default for new rows, backfill in batches, then NOT NULL safely."""
    t, cname = table, qident(column_name(col))
    lines = [
        op_execute(f"ALTER TABLE {t} ADD COLUMN {cname} {_bare_type(col)}"),
        op_execute(f"ALTER TABLE {t} ALTER COLUMN {cname} SET DEFAULT {value}"),
        "# backfill existing rows in batches, each in its own transaction:",
        autocommit(
            "conn = op.get_bind()\n"
            "while conn.execute(sa.text(\n"
            f"    {_q(f'UPDATE {t} SET {cname} = {value} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {t} WHERE {cname} IS NULL LIMIT 10000))')}\n"
            ")).rowcount:\n"
            "    pass"
        ),
    ]
    if not_null:
        lines.append(set_not_null_fix(table, column_name(col), pg))
    return "\n".join(lines)


def _q(s: str) -> str:
    from migagent.tools.lint.rules.base import py

    return py(s)


def set_not_null_fix(table: str, column: str, pg: int) -> str:
    """SET NOT NULL without a long ACCESS EXCLUSIVE scan."""
    cname = qident(column)
    con = qident(f"{table.rpartition('.')[2]}_{column}_not_null")
    if pg >= 18:
        return "\n".join(
            [
                op_execute(f"ALTER TABLE {table} ADD CONSTRAINT {con} NOT NULL {cname} NOT VALID"),
                autocommit(op_execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {con}")),
            ]
        )
    if pg >= 12:
        return "\n".join(
            [
                op_execute(
                    f"ALTER TABLE {table} ADD CONSTRAINT {con} CHECK ({cname} IS NOT NULL) NOT VALID"
                ),
                autocommit(op_execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {con}")),
                op_execute(f"ALTER TABLE {table} ALTER COLUMN {cname} SET NOT NULL"),
                op_execute(f"ALTER TABLE {table} DROP CONSTRAINT {con}"),
            ]
        )
    return (
        f"# PostgreSQL {pg} always scans for SET NOT NULL; enforce it with a validated CHECK instead:\n"
        + op_execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {con} CHECK ({cname} IS NOT NULL) NOT VALID"
        )
        + "\n"
        + autocommit(op_execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {con}"))
    )


@rule(
    "add-column-volatile-default",
    "ADD COLUMN with a volatile default rewrites the table under ACCESS EXCLUSIVE",
    ast.AlterTableStmt,
)
def add_column_volatile_default(stmt: Statement, c: RuleContext):
    table = table_of(relation(node_as(stmt.node, ast.AlterTableStmt)))
    if c.created(table):
        return
    for col in _add_columns(stmt):
        default = _default(col)
        if default is None or _is_null_const(default):
            continue
        kind, funcs = volatility(default)
        if kind == "stable":
            continue
        value = sql_of(default)
        fix = _backfill_fix(table, col, value, _not_null(col), c.ctx.pg_version)
        if kind == "volatile":
            msg = (
                f"ADD COLUMN {col.colname} DEFAULT {value}: {', '.join(funcs)} is volatile, so"
                f" PostgreSQL rewrites {table} to store a value in every row while holding"
                " ACCESS EXCLUSIVE (no reads or writes)."
            )
            yield c.finding(
                "add-column-volatile-default",
                msg,
                table=table,
                lock="ACCESS EXCLUSIVE",
                rewrites=True,
                fix=fix,
            )
        else:
            msg = (
                f"ADD COLUMN {col.colname} DEFAULT {value}: volatility of {', '.join(funcs)} is"
                f" not known to migagent; if it is VOLATILE, {table} is rewritten under"
                " ACCESS EXCLUSIVE."
            )
            f = c.finding(
                "add-column-volatile-default",
                msg,
                table=table,
                lock="ACCESS EXCLUSIVE",
                rewrites=True,
                fix=fix,
            )
            if f.severity == "error":
                f.severity = "warning"
            yield f


@rule(
    "add-column-default-before-11",
    "Before PostgreSQL 11, ADD COLUMN with any default rewrites the table",
    ast.AlterTableStmt,
)
def add_column_default_pre_11(stmt: Statement, c: RuleContext):
    if c.ctx.pg_version >= 11:
        return
    table = table_of(relation(node_as(stmt.node, ast.AlterTableStmt)))
    if c.created(table):
        return
    for col in _add_columns(stmt):
        default = _default(col)
        if default is None or _is_null_const(default):
            continue
        if volatility(default)[0] == "volatile":
            continue  # reported by add-column-volatile-default
        value = sql_of(default)
        yield c.finding(
            "add-column-default-before-11",
            f"ADD COLUMN {col.colname} DEFAULT {value} on PostgreSQL {c.ctx.pg_version}"
            f" rewrites {table} under ACCESS EXCLUSIVE (fast defaults arrived in 11).",
            table=table,
            lock="ACCESS EXCLUSIVE",
            rewrites=True,
            fix=_backfill_fix(table, col, value, _not_null(col), c.ctx.pg_version),
        )


@rule(
    "add-column-not-null-without-default",
    "ADD COLUMN NOT NULL without a default fails on a table that has rows",
    ast.AlterTableStmt,
)
def add_column_not_null(stmt: Statement, c: RuleContext):
    table = table_of(relation(node_as(stmt.node, ast.AlterTableStmt)))
    if c.created(table):
        return
    for col in _add_columns(stmt):
        if not _not_null(col) or _default(col) is not None or _rewrite_kind(col):
            continue
        size = c.size(table)
        severity: Severity
        if size.rows is None:
            severity, note = "warning", " Table size unknown: this fails if it has any rows."
        elif size.rows > 0:
            severity, note = "error", f" {table} has ~{size.rows:,} rows ({size.basis})."
        else:
            severity, note = "info", f" {table} looks empty ({size.basis}); it fails if not."
        fix = "\n".join(
            [
                op_execute(
                    f"ALTER TABLE {table} ADD COLUMN {qident(column_name(col))} {_bare_type(col)}"
                ),
                "# backfill the column (in batches), then:",
                set_not_null_fix(table, column_name(col), c.ctx.pg_version),
            ]
        )
        yield c.finding(
            "add-column-not-null-without-default",
            f"ADD COLUMN {col.colname} NOT NULL with no default: existing rows would be NULL, so"
            " PostgreSQL rejects it on a non-empty table." + note,
            table=table,
            lock="ACCESS EXCLUSIVE",
            severity=severity,
            size=size,
            fix=fix,
        )


@rule(
    "add-column-rewrite",
    "Adding a serial, identity or stored generated column rewrites the table",
    ast.AlterTableStmt,
)
def add_column_rewrite(stmt: Statement, c: RuleContext):
    table = table_of(relation(node_as(stmt.node, ast.AlterTableStmt)))
    if c.created(table):
        return
    for col in _add_columns(stmt):
        kind = _rewrite_kind(col)
        if not kind:
            continue
        cname = qident(column_name(col))
        if "generated" in kind:
            expr = next(
                sql_of(k.raw_expr)
                for k in col.constraints or ()
                if k.contype == ConstrType.CONSTR_GENERATED
            )
            if c.ctx.pg_version >= 18:
                fix = op_execute(
                    f"ALTER TABLE {table} ADD COLUMN {cname} {type_sql(column_type(col))}"
                    f" GENERATED ALWAYS AS ({expr}) VIRTUAL"
                )
                fix = (
                    "# PostgreSQL 18: a VIRTUAL generated column is computed on read, no rewrite\n"
                    + fix
                )
            else:
                fix = (
                    "# add a plain column, keep it current with a trigger, backfill in batches\n"
                    + op_execute(
                        f"ALTER TABLE {table} ADD COLUMN {cname} {type_sql(column_type(col))}"
                    )
                )
        else:
            seq = qident(f"{table.rpartition('.')[2]}_{col.colname}_seq")
            fix = "\n".join(
                [
                    op_execute(f"ALTER TABLE {table} ADD COLUMN {cname} {_bare_type(col)}"),
                    op_execute(f"CREATE SEQUENCE {seq} OWNED BY {table}.{cname}"),
                    op_execute(
                        f"ALTER TABLE {table} ALTER COLUMN {cname} SET DEFAULT nextval('{seq}')"
                    ),
                    "# then backfill existing rows in batches and add NOT NULL via a validated CHECK",
                ]
            )
        yield c.finding(
            "add-column-rewrite",
            f"ADD COLUMN {col.colname} adds {kind}: PostgreSQL rewrites {table} under ACCESS"
            " EXCLUSIVE, blocking reads and writes for the whole rewrite.",
            table=table,
            lock="ACCESS EXCLUSIVE",
            rewrites=True,
            fix=fix,
        )


@rule(
    "set-not-null-scan",
    "SET NOT NULL scans the table under ACCESS EXCLUSIVE unless a validated CHECK proves it",
    ast.AlterTableStmt,
)
def set_not_null(stmt: Statement, c: RuleContext):
    table = table_of(relation(node_as(stmt.node, ast.AlterTableStmt)))
    if c.created(table):
        return
    for cmd in cmds(stmt):
        if cmd.subtype != AlterTableType.AT_SetNotNull:
            continue
        column = cmd_name(cmd)
        if c.ctx.pg_version >= 12 and (table, column) in c.state.validated_not_null:
            continue
        unseen = sorted(c.state.validated_unseen.get(table, ())) if c.ctx.pg_version >= 12 else []
        if unseen:
            yield c.finding(
                "set-not-null-scan",
                f"SET NOT NULL on {table}.{cmd.name} right after VALIDATE CONSTRAINT"
                f" {', '.join(unseen)}, whose definition is not in this migration: if it is"
                f" CHECK ({cmd.name} IS NOT NULL), PostgreSQL 12+ skips the scan; otherwise"
                " every row is scanned under ACCESS EXCLUSIVE; check its definition.",
                table=table,
                lock="ACCESS EXCLUSIVE",
                scans=True,
                severity="warning",
                fix=set_not_null_fix(table, column, c.ctx.pg_version),
            )
            continue
        if c.ctx.pg_version >= 18:
            how = "add a NOT NULL constraint NOT VALID and VALIDATE it in a later transaction (PostgreSQL 18)"
        elif c.ctx.pg_version >= 12:
            how = "add CHECK (col IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL skips the scan"
        else:
            how = "on PostgreSQL < 12 only a validated CHECK constraint avoids the scan"
        yield c.finding(
            "set-not-null-scan",
            f"SET NOT NULL on {table}.{cmd.name} scans every row while holding ACCESS EXCLUSIVE;"
            f" {how}.",
            table=table,
            lock="ACCESS EXCLUSIVE",
            scans=True,
            fix=set_not_null_fix(table, column, c.ctx.pg_version),
        )


def _json_columns(stmt: Statement) -> Iterator[tuple[str, str, ast.TypeName]]:
    """(table, column, type) of every column a CREATE TABLE / ALTER TABLE defines or retypes."""
    node = stmt.node
    if isinstance(node, ast.CreateStmt):
        for elt in node.tableElts or ():
            if isinstance(elt, ast.ColumnDef) and elt.typeName is not None:
                yield table_of(relation(node)), column_name(elt), elt.typeName
    elif isinstance(node, ast.AlterTableStmt):
        for cmd in cmds(stmt):
            d = cmd.def_
            if isinstance(d, ast.ColumnDef) and d.typeName is not None:
                name = d.colname or cmd_name(cmd)  # ALTER COLUMN TYPE names it on the command
                yield table_of(relation(node)), name, d.typeName


@rule(
    "prefer-jsonb",
    "json stores text and cannot be indexed or compared; use jsonb",
    ast.CreateStmt,
    ast.AlterTableStmt,
)
def prefer_jsonb(stmt: Statement, c: RuleContext):
    for table, col, tn in _json_columns(stmt):
        if type_spec(tn).name != "json":
            continue
        yield c.finding(
            "prefer-jsonb",
            f"{table}.{col} is json: it keeps the text verbatim, has no equality operator"
            " (breaks DISTINCT, GROUP BY, UNIQUE) and no GIN indexing; use jsonb.",
            table=table,
            severity="warning",
            size=c.size(table),
            fix=f"sa.Column({_q(col)}, postgresql.JSONB())  # from sqlalchemy.dialects import postgresql",
        )


# ---------------------------------------------------------------- ALTER COLUMN TYPE


@rule(
    "column-type-rewrite",
    "ALTER COLUMN TYPE rewrites the table (and its indexes) unless the change is binary-coercible",
    ast.AlterTableStmt,
)
def column_type_rewrite(stmt: Statement, c: RuleContext):
    table = table_of(relation(node_as(stmt.node, ast.AlterTableStmt)))
    if c.created(table):
        return
    for cmd in cmds(stmt):
        if cmd.subtype != AlterTableType.AT_AlterColumnType:
            continue
        d = cmd.def_
        if not isinstance(d, ast.ColumnDef):
            continue  # ALTER COLUMN TYPE always carries a ColumnDef
        column = cmd_name(cmd)
        new = type_spec(column_type(d))
        old = c.column_type(table, column)
        if old is None and stmt.op is not None:
            old = _alembic_existing_type(stmt.op)
        if d.raw_default is not None:
            verdict: bool | None = True
            why = "with USING, every row is recomputed"
        elif old is None:
            verdict = rewrite_from_unknown(new)
            why = (
                f"the current type is unknown, and a change to {new} rewrites from every other type"
                if verdict
                else "the current type is unknown (pass --db, or existing_type= in alter_column)"
            )
        else:
            verdict = rewrite_needed(old, new, c.ctx.pg_version, c.state.timezone or c.ctx.timezone)
            if verdict is False:
                continue
            if verdict is None:
                why = f"{old} -> {new} skips the rewrite only if the session TimeZone is UTC (unknown)"
            else:
                why = f"{old} -> {new} is not binary-coercible"
        new_sql = type_sql(column_type(d))
        fix = (
            "# expand/contract instead of an in-place rewrite:\n"
            + op_execute(f"ALTER TABLE {table} ADD COLUMN {qident(column + '_new')} {new_sql}")
            + "\n# keep it in sync with a trigger, backfill in batches, switch readers,"
            "\n# then drop the old column and rename in a later release"
        )
        base = f"ALTER COLUMN {cmd.name} TYPE {new_sql} on {table}"
        msg = f"{base}: {why}; a rewrite of {table} and its indexes holds ACCESS EXCLUSIVE (no reads or writes)."
        f = c.finding(
            "column-type-rewrite",
            msg,
            table=table,
            lock="ACCESS EXCLUSIVE",
            rewrites=verdict is not False,
            fix=fix,
        )
        if verdict is None and f.severity == "error":
            f.severity = "warning"
        yield f


def _alembic_existing_type(op) -> TypeSpec | None:
    existing = getattr(op, "existing_type", None)
    if existing is None:
        return None
    try:
        from sqlalchemy.dialects import postgresql

        from migagent.tools.lint.rules.base import type_spec_from_text

        return type_spec_from_text(existing.compile(dialect=postgresql.dialect()))
    except Exception:
        return None
