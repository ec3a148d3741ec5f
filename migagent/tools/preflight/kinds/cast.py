"""ALTER COLUMN TYPE: values the conversion rejects (or, for an explicit cast to
varchar(n), silently truncates).

How each conversion is decided (the method travels with the check, its
exactness in `EXACTNESS`):

- to an enum: the value, or USING's expression under its final cast, must be a label;
- to varchar(n)/char(n): `char_length(value) <= n` (`length`);
- PG 16+, from a string type, a plain cast: `pg_input_is_valid(value, 'type')`;
- PG 15, from a string type, a plain cast to an integer type, numeric, boolean or uuid:
  a pattern with a range (`pattern`); flagged rows are then cast for confirmation;
- from a numeric type to an integer type: the range (`range`);
- anything else, and every USING expression: evaluate the conversion on the rows,
  read-only, and report the first error (`trial`).
Conversions that cannot fail (to text, widening integers, ...) need no check.
"""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType

from migagent.tools.lint.rules.base import TypeSpec, type_spec, type_spec_from_text
from migagent.tools.pgast import cmd_name, column_type, node_as, svals
from migagent.tools.preflight.context import PlanContext, deparse, qualify, short
from migagent.tools.preflight.kinds.registry import kind
from migagent.tools.preflight.model import CastMethod, PreflightCheck
from migagent.tools.sql import quote_ident, quote_literal

TEXTLIKE = frozenset({"text", "varchar", "bpchar", "citext", "name"})
INTEGERS = frozenset({"int2", "int4", "int8"})
NUMERIC = frozenset({"int2", "int4", "int8", "numeric", "float4", "float8"})
PATTERN_TYPES = INTEGERS | {"numeric", "bool", "uuid"}
#: source -> targets that every value converts to
WIDENING: dict[str, frozenset[str]] = {
    "int2": frozenset({"int4", "int8", "numeric", "float4", "float8"}),
    "int4": frozenset({"int8", "numeric", "float8"}),
    "int8": frozenset({"numeric"}),
    "float4": frozenset({"float8"}),
    "timestamp": frozenset({"timestamptz"}),
    "date": frozenset({"timestamp", "timestamptz"}),
    "json": frozenset({"jsonb"}),
    "varchar": frozenset({"text"}),
    "bpchar": frozenset({"text", "varchar"}),
}


def cannot_fail(src: TypeSpec, dst: TypeSpec) -> bool:
    if src.array != dst.array:
        return False
    if dst.name == "text" or (dst.name == "varchar" and not dst.mods):
        return True
    if src.name == dst.name:
        if not dst.mods:
            return True
        if src.name in ("varchar", "bpchar") and src.mods and src.mods[0] <= dst.mods[0]:
            return True
        return src.mods == dst.mods
    if src.name == "text" and dst.name == "varchar" and not dst.mods:
        return True
    return dst.name in WIDENING.get(src.name, frozenset()) and not dst.mods


def _plain(using: object, column: str, dst: TypeSpec) -> bool:
    """USING col::type, or col::text::type: the same conversion as no USING."""
    if not _casts_to(using, dst) or not isinstance(using, ast.TypeCast):
        return False
    arg = using.arg
    if (
        isinstance(arg, ast.TypeCast)
        and arg.typeName is not None
        and type_spec(arg.typeName).name in TEXTLIKE
    ):
        arg = arg.arg
    if not isinstance(arg, ast.ColumnRef) or not arg.fields:
        return False
    last = arg.fields[-1]
    return isinstance(last, ast.String) and last.sval == column


def _casts_to(using: object, dst: TypeSpec) -> bool:
    return (
        isinstance(using, ast.TypeCast)
        and using.typeName is not None
        and type_spec(using.typeName) == dst
    )


def _method(
    ctx: PlanContext,
    src: TypeSpec | None,
    dst: TypeSpec,
    plain: bool,
    *,
    enum: bool,
    new_type: bool,
) -> CastMethod:
    if not plain or src is None:
        return "trial"
    if enum:
        return "enum_labels"
    if dst.name in ("varchar", "bpchar") and dst.mods and not dst.array:
        return "length"
    textual = src.name in TEXTLIKE and not src.array and not dst.array
    if textual and ctx.snapshot.server_version >= 160000 and not new_type:
        return "pg_input_is_valid"
    if textual and dst.name in PATTERN_TYPES:
        return "pattern"
    if src.name in NUMERIC and dst.name in INTEGERS and not src.array:
        return "range"
    return "trial"


EXACTNESS: dict[str, str] = {
    "enum_labels": (
        "exact: the value (or the USING expression before its cast to the enum) must equal"
        " one of the enum's labels (case and spaces count)"
    ),
    "length": "exact: counts values longer than the limit (char_length)",
    "pg_input_is_valid": "exact: pg_input_is_valid() runs the new type's input function on each value",
    "pattern": (
        "exact for integer types, boolean and uuid on PG 15 (their input syntax as a pattern plus"
        " the range); approximate for numeric (pattern without precision limits); flagged rows are"
        " cast once more to confirm that at least one really fails"
    ),
    "range": "exact: counts values outside the integer type's range after rounding",
    "trial": (
        "exact pass/fail, count not known: the conversion is evaluated on every row (read-only)"
        " and the first error is reported with its value"
    ),
}


@kind(AlterTableType.AT_AlterColumnType)
def alter_type(cmd: ast.AlterTableCmd, ctx: PlanContext) -> list[PreflightCheck]:
    cdef = node_as(cmd.def_, ast.ColumnDef)
    type_name = column_type(cdef)
    dst = type_spec(type_name)
    type_sql = deparse(type_name)
    written = cmd_name(cmd)
    column = ctx.column_name(written)
    current = ctx.target_column(written)
    src = type_spec_from_text(current.type) if current else None
    using = cdef.raw_default
    plain = using is None or _plain(using, written, dst)
    if plain and src is not None and cannot_fail(src, dst):
        return []
    names = svals(type_name.names)
    qualified = qualify(names[0], names[1]) if len(names) == 2 else qualify(None, names[-1])
    labels = ctx.state.enum_labels.get(qualified)
    if labels is None and qualified in ctx.snapshot.enums:
        labels = ctx.snapshot.enums[qualified].labels
    new_type = qualified in ctx.state.created_types
    method = _method(ctx, src, dst, plain, enum=labels is not None, new_type=new_type)
    shown_using = None if plain else deparse(using)
    if (
        labels is not None
        and not plain
        and isinstance(using, ast.TypeCast)
        and _casts_to(using, dst)
    ):
        # USING <expr>::enum: compare <expr> with the labels, no need for the type to exist
        method, shown_using = "enum_labels", deparse(using.arg)
    skip, skip_status = None, "info"
    if method == "trial" and new_type:
        skip = f"{type_sql} is created by this revision, so the conversion cannot be tried on the target"
        skip_status = "unknown"
    tbl, col = short(ctx.table), quote_ident(column)
    if method == "enum_labels":
        listed = ", ".join(quote_literal(v) for v in labels or ())
        fix = (
            f"map those values to labels first (UPDATE {tbl} SET {col} = ... WHERE {col}::text"
            f" NOT IN ({listed})), or add the labels to {type_sql}"
        )
    elif method == "length":
        n = dst.mods[0]
        fix = (
            f"shorten them first, e.g. UPDATE {tbl} SET {col} = left({col}, {n})"
            f" WHERE char_length({col}) > {n}, or keep a longer type"
        )
    else:
        fix = (
            f"fix or clear the values that do not convert first (UPDATE {tbl} SET {col} = ..."
            f" WHERE ...), or write a USING expression that maps them"
        )
    truncates = method == "length" and using is not None
    return [
        ctx.check(
            "cast",
            columns=(cmd.name,),
            type_name=type_sql,
            source_type=current.type if current else None,
            using=shown_using,
            method=method,
            labels=tuple(labels or ()),
            max_length=dst.mods[0] if method == "length" else None,
            truncates=truncates,
            skip=skip,
            skip_status=skip_status,
            exactness=EXACTNESS[method],
            fix=fix,
        )
    ]
