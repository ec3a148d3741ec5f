"""SQL type text <-> SQLAlchemy type expressions, and SQL type normalisation.

Used by lowering (op-code for columns) and by the spec (model snippets). Types
are PostgreSQL's `format_type()` spellings ("character varying(32)",
"timestamp with time zone"); `normalize_type` maps the usual aliases to them.
"""

from __future__ import annotations

import re

_ALIASES = {
    "int": "integer",
    "int4": "integer",
    "int8": "bigint",
    "int2": "smallint",
    "serial": "integer",
    "bigserial": "bigint",
    "smallserial": "smallint",
    "bool": "boolean",
    "float": "double precision",
    "float8": "double precision",
    "float4": "real",
    "double": "double precision",
    "timestamptz": "timestamp with time zone",
    "timestamp": "timestamp without time zone",
    "timetz": "time with time zone",
    "time": "time without time zone",
    "varchar": "character varying",
    "char": "character(1)",
    "character": "character(1)",
    "decimal": "numeric",
    "string": "text",
}


def normalize_type(sql_type: str) -> str:
    """The `format_type()` spelling of a type written in DDL."""
    t = " ".join(sql_type.strip().lower().split())
    t = re.sub(r"\s*\(\s*", "(", t)
    t = re.sub(r"\s*,\s*", ",", t)
    t = re.sub(r"\s*\)", ")", t)
    array = ""
    while t.endswith("[]"):
        array += "[]"
        t = t[:-2].strip()
    m = re.fullmatch(r"(varchar|character varying|char|character|bpchar)\((\d+)\)", t)
    if m:
        base = (
            "character varying" if m.group(1) in ("varchar", "character varying") else "character"
        )
        return f"{base}({m.group(2)}){array}"
    m = re.fullmatch(r"(numeric|decimal)\((\d+)(?:,(\d+))?\)", t)
    if m:
        return f"numeric({m.group(2)},{m.group(3) or 0}){array}"
    m = re.fullmatch(r"(timestamptz|timestamp|time|timetz)\((\d)\)(.*)", t)
    if m:
        base = normalize_type(m.group(1) + m.group(3))
        head, _, tail = base.partition(" ")
        return f"{head}({m.group(2)}) {tail}{array}".strip()
    if t in ("timestamp with time zone", "timestamp without time zone"):
        return t + array
    return _ALIASES.get(t, t) + array


def type_family(sql_type: str) -> str:
    t = normalize_type(sql_type)
    if t.endswith("[]"):
        return "array"
    base = t.split("(")[0]
    if base in ("smallint", "integer", "bigint"):
        return "int"
    if base in ("numeric", "real", "double precision"):
        return "num"
    if base in ("text", "character varying", "character", "citext"):
        return "text"
    if base.startswith("timestamp"):
        return "timestamp"
    return base


def sa_type(sql_type: str, enums: set[str] | frozenset[str] = frozenset()) -> str | None:
    """SQLAlchemy expression for a type, or None when there is no faithful one."""
    t = normalize_type(sql_type)
    if t.endswith("[]"):
        inner = sa_type(t[:-2], enums)
        return f"postgresql.ARRAY({inner})" if inner else None
    simple = {
        "smallint": "sa.SmallInteger()",
        "integer": "sa.Integer()",
        "bigint": "sa.BigInteger()",
        "text": "sa.Text()",
        "character varying": "sa.String()",
        "boolean": "sa.Boolean()",
        "date": "sa.Date()",
        "timestamp with time zone": "sa.DateTime(timezone=True)",
        "timestamp without time zone": "sa.DateTime()",
        "time without time zone": "sa.Time()",
        "time with time zone": "sa.Time(timezone=True)",
        "numeric": "sa.Numeric()",
        "real": "sa.REAL()",
        "double precision": "sa.Double()",
        "jsonb": "postgresql.JSONB(astext_type=sa.Text())",
        "json": "postgresql.JSON(astext_type=sa.Text())",
        "uuid": "sa.Uuid()",
        "bytea": "postgresql.BYTEA()",
        "tsvector": "postgresql.TSVECTOR()",
        "inet": "postgresql.INET()",
        "cidr": "postgresql.CIDR()",
        "interval": "postgresql.INTERVAL()",
        "citext": "postgresql.CITEXT()",
        "hstore": "postgresql.HSTORE()",
        "tstzrange": "postgresql.TSTZRANGE()",
        "tsrange": "postgresql.TSRANGE()",
        "daterange": "postgresql.DATERANGE()",
        "int4range": "postgresql.INT4RANGE()",
        "int8range": "postgresql.INT8RANGE()",
        "money": "postgresql.MONEY()",
    }
    if t in simple:
        return simple[t]
    m = re.fullmatch(r"character varying\((\d+)\)", t)
    if m:
        return f"sa.String(length={m.group(1)})"
    m = re.fullmatch(r"character\((\d+)\)", t)
    if m:
        return f"sa.CHAR(length={m.group(1)})"
    m = re.fullmatch(r"numeric\((\d+),(\d+)\)", t)
    if m:
        return f"sa.Numeric(precision={m.group(1)}, scale={m.group(2)})"
    m = re.fullmatch(r"timestamp\((\d)\) (with|without) time zone", t)
    if m:
        tz = ", timezone=True" if m.group(2) == "with" else ""
        return f"postgresql.TIMESTAMP(precision={m.group(1)}{tz})"
    bare = t.split(".")[-1].strip('"')
    if t in enums or bare in enums:
        schema = t.split(".")[0] if "." in t else None
        extra = f", schema={schema!r}" if schema and schema != "public" else ""
        return f"postgresql.ENUM(name={bare!r}{extra}, create_type=False)"
    return None


def model_type(sql_type: str, enums: set[str] | frozenset[str] = frozenset()) -> tuple[str, str]:
    """(SQLAlchemy column type, Python annotation) for model snippets."""
    t = normalize_type(sql_type)
    fam = type_family(t)
    expr = sa_type(t, enums) or f"sa.types.UserDefinedType()  # {t}"
    py = {
        "int": "int",
        "num": "Decimal" if t.startswith("numeric") else "float",
        "text": "str",
        "timestamp": "datetime",
        "boolean": "bool",
        "date": "date",
        "uuid": "uuid.UUID",
        "jsonb": "dict",
        "json": "dict",
        "bytea": "bytes",
        "array": "list",
        "interval": "timedelta",
    }.get(fam, "str")
    if t in ("real", "double precision"):
        py = "float"
    return expr, py
