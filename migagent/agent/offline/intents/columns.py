"""Column intents: add a column, its default (also stated as a business rule), nullability."""

from __future__ import annotations

import re

from migagent.agent import plan as P
from migagent.agent.errors import AmbiguousRequest, UnderstandingError
from migagent.agent.offline.common import (
    EXTENSION_TYPES,
    idx_name,
    infer_type,
    qtable,
    read_labels,
)
from migagent.agent.offline.context import Ctx, column_of
from migagent.agent.offline.lexicon import (
    find_type,
    find_types,
    parse_value,
    plural,
    ref_action,
    singular,
)
from migagent.agent.offline.naming import new_column_name
from migagent.agent.offline.resolve import STOP
from migagent.agent.satypes import normalize_type, type_family
from migagent.tools.introspect.model import Enum, Table


def maybe_add_column(ctx: Ctx) -> P.DraftPlan | None:
    try:
        t = ctx.subject()
    except UnderstandingError:
        return None
    if new_column_name(ctx, t) is None:
        return None
    return add_column(ctx)


_NOT_NULL = r"\bnot\s+null\b|\brequired\b|\bnon-?null(?:able)?\b|\bmandatory\b|\bmust\s+be\s+set\b"
_NULLABLE = r"(?<!non-)(?<!non)\bnullable\b|\boptional\b"


def add_column(ctx: Ctx) -> P.DraftPlan | None:
    t = ctx.subject()
    found = new_column_name(ctx, t)
    if found is None:
        return None
    name, end = found
    if t.column(name):
        raise UnderstandingError(f"{t.name}.{name} already exists")
    ctx.categories += ["add_column"]
    rest = ctx.r.text[end:]
    ops: list[P.Operation] = []
    enums = {e.name: e for e in ctx.snap.enums.values()}
    typ_text, created = _enum_type(ctx, t, name, rest, enums)
    if created is not None:
        ops.append(created)
    inferred_fk = None
    if typ_text is None:
        typ_text, inferred_fk = _column_type(ctx, t, name, rest, enums)
    if typ_text in ("serial", "bigserial"):
        typ_text = {"serial": "integer", "bigserial": "bigint"}[typ_text]
    enum_labels = (
        enums[typ_text].labels if typ_text in enums else created.labels if created else None
    )
    said_not_null = ctx.has(_NOT_NULL) and not ctx.has(_NULLABLE)
    said_nullable = ctx.has(_NULLABLE)
    default = _default_value(ctx, t, name, typ_text, enum_labels)
    if typ_text in EXTENSION_TYPES:
        ops = ctx.extension_ops(EXTENSION_TYPES[typ_text]) + ops
    elif m_ext := re.search(
        r"\b(?:enable|install|create)\s+(?:the\s+)?([a-z_]\w*)\s+extension\b", ctx.low
    ):
        ops = ctx.extension_ops(m_ext.group(1)) + ops
    rows = ctx.facts.row_count(t.qualified_name)
    # a value for existing rows: "= a + b", "filled in from customers.email", "backfill ... with"
    fill = None
    em = re.match(r"\s*(?:\([^)]*\)\s*)?(?:=|:=|as)\s*([^.;,]+?)(?:[.;,]\s|$)", rest + " ")
    if em and not re.match(r"\s*(?:a|an|the)\b", em.group(1)):
        fill = _expression(t, em.group(1))
    src = re.search(
        r"\b(?:filled|populated|backfilled|copied|taken)\s+(?:in\s+)?(?:from|with)\s+(?:the\s+)?([a-z_]\w*)\.([a-z_]\w*)",
        ctx.low,
    )
    not_null = said_not_null
    if fill is None and src is None and not said_nullable and not said_not_null:
        not_null, default = _closed_set_default(ctx, t, name, typ_text, enum_labels, default)
    col = P.ColumnDef(name=name, type=typ_text, nullable=not not_null, default=default)
    if fill is not None or src is not None:
        ops.append(
            P.AddColumn(table=t.qualified_name, column=col.model_copy(update={"nullable": True}))
        )
        if src is not None:
            ops.append(_join_backfill(ctx, t, name, src.group(1), src.group(2)))
        elif fill is not None:
            ops.append(
                P.Backfill(table=t.qualified_name, column=name, value=fill, where=f"{name} IS NULL")
            )
        ctx.categories += ["data_migration", "backfill"]
        if not_null:
            ops.append(P.SetNotNull(table=t.qualified_name, column=name))
            ctx.categories += ["not_null"]
            ctx.warnings.append(
                f"rows written between the backfill and SET NOT NULL must set {name} (or the last step fails)"
            )
    else:
        if not col.nullable and default is None and rows > 0:
            raise UnderstandingError(
                f"{t.name} has ~{rows:,} rows, so a NOT NULL {name} needs a default or a backfill value",
                ["say e.g. 'default 0' or 'existing rows get ...'"],
            )
        ops.append(P.AddColumn(table=t.qualified_name, column=col))
    ops += _attached(ctx, t, name, rest, inferred_fk)
    return ctx.plan(f"Add column {t.name}.{name}", ops, f"add_{name}_to_{t.name}")


def _enum_type(
    ctx: Ctx, t: Table, name: str, rest: str, enums: dict[str, Enum]
) -> tuple[str | None, P.CreateEnum | None]:
    """The enum a new column is typed with: one the request names (existing, or created
    here: "as a Postgres enum type called x: a / b / c"), else None."""
    if re.search(r"\benum\b", ctx.low):
        nm = re.search(r"\benum(?:\s+type)?\s+(?:called\s+|named\s+)?[`'\"]?([a-z_]\w*)", ctx.low)
        ename = (
            nm.group(1)
            if nm and nm.group(1) not in ("type", "with", "of", "called", "named")
            else f"{singular(t.name)}_{name}"
        )
        if ename in enums:
            return ename, None
        labels = read_labels(ctx.r.text)
        if not labels:
            raise UnderstandingError(
                "found no enum values in the request",
                ["write them as 'a', 'b', 'c' or a / b / c"],
            )
        ctx.categories += ["enum", "create_enum"]
        return ename, P.CreateEnum(name=ename, labels=labels)
    low_rest = rest.lower()
    for ename in enums:
        if re.search(rf"\b{re.escape(ename)}\b", low_rest):
            return ename, None
    return None, None


def _column_type(
    ctx: Ctx, t: Table, name: str, rest: str, enums: dict[str, Enum]
) -> tuple[str, Table | None]:
    """The type of a new column the request does not type with an enum: written in it,
    else the referenced key's (`<thing>_id`), an existing enum whose labels or name the
    request matches, the schema's convention or the name's; else a refusal asking for it.
    Also the table an inferred foreign key points at."""
    typ = find_type(rest[:80])
    if typ is None and len(find_types(ctx.low)) == 1 and ctx.phrase_name != name:
        typ = find_type(ctx.low)  # its type word is not its name
    given = normalize_type(typ[0]) if typ else None
    key_of = _referenced_by_name(ctx, t, name)
    if key_of is not None:
        rt, rpk = key_of
        rtype = column_of(rt, rpk).type
        if given is None:
            ctx.assumptions.append(
                f"{t.name}.{name} references {rt.name}.{rpk}, so it is {rtype} with a foreign key"
            )
            return rtype, rt
        if type_family(given) == type_family(rtype) and typ is not None:
            ctx.assumptions.append(
                f"{t.name}.{name} references {rt.name}.{rpk} (its name says so): a foreign key"
            )
            return typ[0], rt
        if type_family(given) != type_family(rtype):
            raise UnderstandingError(
                f"{t.name}.{name} reads as a reference to {rt.name}.{rpk}, which is {rtype}, "
                f"but the request types it {given}",
                [f"{rt.name}.{rpk} is {rtype}"],
                f"say 'add {name} {rtype} to {t.name}' for the reference, or give the column "
                "another name",
            )
    if typ is not None:
        return typ[0], None
    matched = _enum_matching(ctx, name, rest, enums)
    if matched is not None:
        return matched, None
    inferred = infer_type(name, ctx.snap)
    if inferred is None:
        raise UnderstandingError(
            f"understood: add a column {name} to {t.name}; missing: its type (the name "
            "does not say it)",
            None,
            f"say the type, e.g. 'add {name} text to {t.name}' (or bigint, boolean, "
            "timestamptz, numeric(12,2), interval, 'up to 32 characters')",
        )
    ctx.assumptions.append(f"{t.name}.{name} typed {inferred} (inferred from its name)")
    return inferred, None


def _enum_matching(ctx: Ctx, name: str, rest: str, enums: dict[str, Enum]) -> str | None:
    """An existing enum a new, untyped column reads as: the one at least two of whose
    labels the request lists (and none it does not know), or the one named like the
    column. Two enums listing the same values: a refusal, not a pick."""
    low = rest.lower()
    listed = {x.lower() for x in read_labels(rest)}
    hits = []
    for e in enums.values():
        labels = {x.lower() for x in e.labels}
        said = {x for x in labels if re.search(rf"(?<![\w-]){re.escape(x)}(?![\w-])", low)}
        if len(said) >= 2 and listed <= labels:
            hits.append(e.name)
    for e_name in hits:
        _check_listed(name, rest, enums[e_name])
    if len(hits) > 1:
        raise AmbiguousRequest(f"the values named for {name} fit more than one enum type", hits)
    if hits:
        ctx.assumptions.append(
            f"{name} takes the values of the existing enum type {hits[0]} "
            f"({', '.join(enums[hits[0]].labels)}), so it is typed {hits[0]}"
        )
        return hits[0]
    if name in enums:
        ctx.assumptions.append(f"{name} is typed by the existing enum type of the same name")
        return name
    return None


# a list of values as a request writes it: "a, b or c", "a / b / c", "a and b"
_LIST = re.compile(r"[\w-]+(?:\s*(?:,\s*(?:or\s+|and\s+)?|/|\s+or\s+|\s+and\s+)\s*[\w-]+)+")
_GLUE = frozenset({"default", "defaults", "defaulting", "nullable", "optional", "required", "null"})


def _check_listed(name: str, rest: str, e: Enum) -> None:
    """Refuse an enum whose labels the request lists only in part ("weekly, monthly or
    yearly" against weekly/monthly/quarterly): its type would silently drop a value."""
    labels = {x.lower() for x in e.labels}
    for m in _LIST.finditer(rest.lower()):
        items = [w for w in re.split(r"\s*(?:,|/|\bor\b|\band\b)\s*", m.group(0)) if w]
        if len(labels.intersection(items)) < 2:
            continue
        unknown = [w for w in items if w not in labels and w not in STOP and w not in _GLUE]
        if unknown:
            raise UnderstandingError(
                f"understood: add a column {name} with the values {', '.join(items)}; the enum "
                f"type {e.name} has {', '.join(e.labels)}, not {', '.join(unknown)}; missing: "
                "its type",
                None,
                f"say the type, e.g. 'as an enum type called {name}: {' / '.join(items)}', or "
                f"'typed {e.name}' without the other values",
            )


def _default_value(
    ctx: Ctx, t: Table, name: str, typ_text: str, labels: list[str] | None
) -> str | None:
    """The default the request gives the new column ("default x", "x by default",
    "existing rows are all x"), as SQL for its type; None when it gives none."""
    sql_type = normalize_type(typ_text) if labels is None else None
    dm = re.search(
        r"('(?:[^']|'')*'|[\w-]+)\s+(?:by|as\s+the)\s+default\b", ctx.r.text, re.I
    ) or re.search(
        r"\bdefault(?:s|ing)?(?:\s+(?:it|value))?\s*(?:to|of|=|:|is|should\s+be)?\s+(.+?)(?:$|[.;]\s|,\s|\s+and\s|\))",
        ctx.r.text + " ",
        re.I,
    )
    if dm:
        value = parse_value(dm.group(1), sql_type)
        if value is None:
            raise UnderstandingError(f"could not read the default value {dm.group(1)!r}")
    elif fm := re.search(
        r"\b(?:existing|old|current)\s+\w+\s+(?:are|is|should\s+be|get|become)\s+(?:all\s+)?('[^']*'|\S+)",
        ctx.r.text,
        re.I,
    ):
        value = parse_value(fm.group(1), sql_type)
    else:
        return None
    if value is None or labels is None:
        return value
    value = value if value.startswith("'") else f"'{value}'"
    if value.strip("'") not in labels:
        raise UnderstandingError(
            f"the default {value} of {t.name}.{name} is not one of its values",
            [f"values: {', '.join(labels)}"],
        )
    return value


def _closed_set_default(
    ctx: Ctx, t: Table, name: str, typ_text: str, labels: list[str] | None, default: str | None
) -> tuple[bool, str | None]:
    """(NOT NULL?, default) of a new flag or enum column the request says neither
    nullable nor NOT NULL: a flag is set or not, so NOT NULL DEFAULT false unless a
    default is given; an enum column with a default holds one of its values in every
    row, so NOT NULL. Anything else stays nullable."""
    if normalize_type(typ_text) == "boolean":
        value = default or "false"
        ctx.assumptions.append(
            f"{t.name}.{name} is a flag: boolean NOT NULL DEFAULT {value} (every row is either "
            f"set or not; existing rows read {value}, a catalog-only change)"
        )
        return True, value
    if labels is not None and default is not None:
        ctx.assumptions.append(
            f"{t.name}.{name} is NOT NULL: every row, existing ones included, holds one of "
            f"its values (the default {default} until set)"
        )
        return True, default
    return False, default


def _attached(
    ctx: Ctx, t: Table, name: str, rest: str, inferred_fk: Table | None
) -> list[P.Operation]:
    """The foreign key, unique constraint or index the request attaches to the new
    column. A new foreign-key column is indexed even unasked: deletes on the referenced
    table and joins from it look rows up by the column (built CONCURRENTLY when large)."""
    ops: list[P.Operation] = []
    ref = re.search(
        r"\b(?:references?|referencing|foreign\s+key\s+(?:to|on)|fk\s+to|points?\s+(?:to|at)|pointing\s+(?:to|at)|linked\s+to)\s+(?:the\s+)?(?:another\s+|an?\s+|other\s+)?([a-z_][\w.]*)",
        ctx.low,
    )
    fk = None
    if (
        ref
        or inferred_fk is not None
        or (name.endswith("_id") and ctx.has(r"\bforeign\s+key|\bfk\b"))
    ):
        rt_name = ref.group(1).split("(")[0] if ref else plural(name[:-3])
        rt = (
            inferred_fk
            if inferred_fk is not None and not ref
            else (ctx.r.table_named(rt_name.split(".")[0]) or [None])[0]
        )
        if rt is None:
            raise UnderstandingError(f"{t.name}.{name} references {rt_name}, which does not exist")
        ctx.categories += ["foreign_key"]
        fk = P.AddForeignKey(
            table=t.qualified_name,
            name=f"{t.name}_{name}_fkey",
            columns=[name],
            ref_table=rt.qualified_name,
            ref_columns=ctx.pk(rt),
            on_delete=ref_action(ctx.low),
        )
        ops.append(fk)
    if re.search(r"\bunique\b", rest.lower()):
        ctx.categories += ["unique"]
        ops.append(P.AddUnique(table=t.qualified_name, name=f"{t.name}_{name}_key", columns=[name]))
    elif fk is not None or re.search(r"\bindex(?:ed)?\b|\bidx\b", ctx.low):
        ctx.categories += ["index"]
        ops.append(
            P.CreateIndex(table=t.qualified_name, name=idx_name(t.name, [name], "idx"), keys=[name])
        )
        if fk is not None and not re.search(r"\bindex(?:ed)?\b|\bidx\b", ctx.low):
            ctx.assumptions.append(
                f"{t.name}.{name} gets an index: deletes on {fk.ref_table.split('.')[-1]} and "
                f"joins look {t.name} rows up by it"
            )
    return ops


def _referenced_by_name(ctx: Ctx, t: Table, name: str) -> tuple[Table, str] | None:
    """(table, key) a new `<thing>_id` column of `t` refers to by its name: a table
    `<things>` (or `<thing>`) with a one-column primary key, not `t` itself."""
    if not name.endswith("_id") or len(name) <= 3:
        return None
    found = ctx.r.table_named(name[:-3], fuzzy=False)
    if not found or found[0] is t:
        return None
    pk = ctx.pk(found[0])
    return (found[0], pk[0]) if len(pk) == 1 else None


def _expression(t: Table, text: str) -> str:
    """An SQL expression over `t`'s columns written in the request (`a + b`, `lower(x)`)."""
    expr = text.strip().strip("`").strip()
    idents = re.findall(r"\b([a-z_][\w]*)\b(?!\s*\()", expr.lower())
    unknown = [
        i
        for i in idents
        if not t.column(i)
        and i
        not in (
            "and",
            "or",
            "not",
            "null",
            "coalesce",
            "true",
            "false",
            "text",
            "integer",
            "bigint",
        )
    ]
    if unknown or not idents:
        raise UnderstandingError(
            f"could not read the expression {expr!r} over the columns of {t.name}",
            [f"unknown names: {', '.join(unknown)}" if unknown else "no column named"],
        )
    return expr


def _join_backfill(ctx: Ctx, t: Table, column: str, src_table: str, src_col: str) -> P.Backfill:
    found = ctx.r.table_named(src_table)
    if not found:
        raise UnderstandingError(f"no table {src_table} to copy from")
    src_t = found[0]
    src_c = ctx.r.column_named(src_t, src_col)
    if src_c is None:
        raise UnderstandingError(f"{src_t.name} has no column {src_col}")
    fk = next(
        (
            k
            for k in t.constraints
            if k.kind == "foreign_key" and k.ref_table == src_t.qualified_name
        ),
        None,
    )
    if fk is not None:
        join = " AND ".join(
            f"src.{rc} = dst.{lc}" for lc, rc in zip(fk.columns, fk.ref_columns, strict=False)
        )
    else:
        cand = f"{singular(src_t.name)}_id"
        if not t.column(cand) or len(ctx.pk(src_t)) != 1:
            raise UnderstandingError(
                f"no foreign key from {t.name} to {src_t.name} to join on",
                [
                    f"foreign keys of {t.name}: {', '.join(k.name for k in t.constraints if k.kind == 'foreign_key') or 'none'}"
                ],
            )
        join = f"src.{ctx.pk(src_t)[0]} = dst.{cand}"
    return P.Backfill(
        table=t.qualified_name,
        column=column,
        value=f"src.{src_c}",
        alias="dst",
        from_sql=f"{qtable(src_t)} AS src",
        join_on=join,
        where=f"dst.{column} IS NULL",
    )


def default(ctx: Ctx) -> P.DraftPlan | None:
    t = ctx.subject()
    col = ctx.one_column(t, "change the default of")
    c = column_of(t, col)
    if ctx.has(
        r"\b(?:remove|drop|delete|no\s+longer|get\s+rid\s+of|without|unset|clear|no)\b[^.]{0,40}\bdefault|\bdefault\b[^.]{0,20}\b(?:removed|dropped|gone)\b"
    ):
        if c.default is None:
            raise UnderstandingError(f"{t.name}.{col} has no default to remove")
        ctx.categories += ["default", "drop_default"]
        return ctx.plan(
            f"Drop the default of {t.name}.{col}",
            [P.SetDefault(table=t.qualified_name, column=col, default=None)],
            f"drop_{t.name}_{col}_default",
        )
    end = r"(?:$|[.;]\s|,\s|\s+when\b|\s+if\b|\s+for\b|\s+and\b|\s+instead\b)"
    # "default memberships.status to 'active'": the verb names the column, then the value
    table = rf"(?:[\w$]+\.)?{re.escape(t.name)}"
    ref = rf"(?:{table}\.)?{re.escape(col)}(?:\s+(?:on|of|in|for)\s+(?:the\s+)?{table})?"
    m = re.search(
        rf"\bdefault(?:s|ed|ing)?\s+(?:the\s+)?{ref}\s+(?:to|=|as|at)\s+(.+?){end}",
        ctx.text + " ",
        re.I,
    ) or re.search(
        r"\bdefault(?:s|ing)?(?:\s+(?:value|it))?\s*(?:to|of|=|:|is|as|should\s+be|becomes?)?\s+(.+?)"
        + end,
        ctx.text + " ",
        re.I,
    )
    value = parse_value(m.group(1), c.type) if m else None
    if value is None:
        raise UnderstandingError(
            f"could not read the new default for {t.name}.{col}",
            ["write it as \"default 'open'\" or 'default now()'"],
        )
    if type_family(c.type) in ("int", "num") and not re.match(r"-?\d", value):
        raise UnderstandingError(f"{value} is not a number, but {t.name}.{col} is {c.type}")
    ctx.categories += ["default", "set_default"]
    if (
        c.nullable
        and ctx.has(r"\bnot\s+null\b|\brequired\b|\bmandatory\b|\bnon-?null(?:able)?\b")
        and not ctx.has(r"\b(?:no\s+longer|not)\s+required\b")
    ):
        # "make x NOT NULL with default 'y'": both; the rows still NULL get the default
        ctx.categories += ["not_null", "backfill"]
        ctx.assumptions.append(f"rows where {t.name}.{col} is NULL get {value} before NOT NULL")
        return ctx.plan(
            f"Default {t.name}.{col} to {value} and make it NOT NULL",
            [
                P.SetDefault(table=t.qualified_name, column=col, default=value),
                P.SetNotNull(table=t.qualified_name, column=col, backfill=value),
            ],
            f"{t.name}_{col}_default_not_null",
        )
    if (
        ctx.has(r"\b(?:existing|old|current)\s+(?:rows|records|values|nulls)\b|\bbackfill\b")
        and c.nullable
    ):
        ctx.categories += ["backfill"]
        return ctx.plan(
            f"Default {t.name}.{col} to {value}",
            [
                P.SetDefault(table=t.qualified_name, column=col, default=value),
                P.Backfill(table=t.qualified_name, column=col, value=value, where=f"{col} IS NULL"),
            ],
            f"{t.name}_{col}_default",
        )
    return ctx.plan(
        f"Default {t.name}.{col} to {value}",
        [P.SetDefault(table=t.qualified_name, column=col, default=value)],
        f"set_{t.name}_{col}_default",
    )


def business_default(ctx: Ctx) -> P.DraftPlan | None:
    """A default stated as what new rows start with: "new listings start on the basic
    tier", "new accounts should start as 'trial'". The column is the one named after
    the value (tier) or in the words; none or several: a refusal."""
    m = ctx.search(
        r"\bnew\s+([a-z_]\w*(?:\s+[a-z_]\w*)?)\s+(?:should\s+|will\s+|must\s+|always\s+)*"
        r"(?:start|begin|get)s?\s+(?:off\s+|out\s+)?(?:as|on|in|at|with|from)?\s*(?:the\s+|a\s+|an\s+)?"
        r"('(?:[^']|'')*'|-?\d+(?:\.\d+)?|[a-z_][\w-]*)(?:\s+([a-z_]\w*))?"
    )
    if not m:
        return None
    try:
        t = ctx.subject()
    except UnderstandingError:
        return None
    cands = [
        x.column
        for x in ctx.r.column_mentions(t, start=m.start(2))
        if x.column and t.column(x.column)
    ]
    if not cands:
        cands = [x.column for x in ctx.r.column_mentions(t) if x.column]
    cands = list(dict.fromkeys(cands))
    if len(cands) != 1:
        raise UnderstandingError(
            f"read a default for new {t.name} rows ({m.group(2)}), but not which column it is for",
            [f"columns of {t.name}: {', '.join(c.name for c in t.columns)}"],
            f'name the column, e.g. "{t.name}.<column> should default to {m.group(2)}"',
        )
    col = cands[0]
    c = column_of(t, col)
    raw = m.group(2)
    number = re.fullmatch(r"-?\d+(?:\.\d+)?", raw)
    if raw.startswith("'") or (type_family(c.type) in ("int", "num") and number):
        value = raw
    elif type_family(c.type) == "text" or c.type in {e.name for e in ctx.snap.enums.values()}:
        value = f"'{raw}'"
    else:
        value = parse_value(raw, c.type)
    if value is None:
        raise UnderstandingError(f"could not read {raw!r} as a value of {t.name}.{col}")
    if c.default is not None and c.default.split("::")[0] == value:
        raise UnderstandingError(f"{t.name}.{col} already defaults to {value}")
    ctx.categories += ["default", "set_default"]
    ctx.assumptions.append(
        f"'new {m.group(1)} start {raw}' reads as the default of {t.name}.{col}; existing rows keep their values"
    )
    return ctx.plan(
        f"Default {t.name}.{col} to {value}",
        [P.SetDefault(table=t.qualified_name, column=col, default=value)],
        f"set_{t.name}_{col}_default",
    )


def nullability(ctx: Ctx) -> P.DraftPlan | None:
    t = ctx.subject()
    drop = ctx.has(
        r"\ballow\b[^;]{0,60}?\bto\s+be\s+(?:null|empty|missing|blank|unset)\b|\boptional\b|\b(?<!non-)nullable\b|\ballow\s+nulls?\b|\b(?:drop|remove|delete|get\s+rid\s+of)\s+(?:the\s+)?not[\s-]+null\b|\bcan\s+be\s+(?:null|empty|missing)\b|\bno\s+longer\s+required\b|\bnot\s+required\b"
    )
    col = ctx.one_column(t, "make " + ("nullable" if drop else "NOT NULL"))
    c = column_of(t, col)
    if drop:
        if c.nullable:
            raise UnderstandingError(f"{t.name}.{col} is already nullable")
        if any(col in k.columns for k in t.constraints if k.kind == "primary_key"):
            raise UnderstandingError(
                f"{t.name}.{col} is part of the primary key and cannot be nullable"
            )
        ctx.categories += ["drop_not_null"]
        return ctx.plan(
            f"Make {t.name}.{col} nullable",
            [P.DropNotNull(table=t.qualified_name, column=col)],
            f"make_{t.name}_{col}_nullable",
        )
    if not c.nullable:
        raise UnderstandingError(f"{t.name}.{col} is already NOT NULL")
    ctx.categories += ["not_null"]
    fill = None
    fm = re.search(
        r"\b(?:set|fill|backfill|replace|default)\s+(?:existing\s+|the\s+|any\s+|old\s+)*(?:nulls?|missing(?:\s+values?)?|empty\s+ones|blanks?)\s+(?:to|with|as)\s+(.+?)(?:$|[.;]\s|,\s|\s+first\b)",
        ctx.text + " ",
        re.I,
    ) or re.search(
        r"\bnulls?\s+(?:become|becomes|should\s+be|get|=)\s+(.+?)(?:$|[.;]\s|,\s)",
        ctx.text + " ",
        re.I,
    )
    if fm:
        fill = parse_value(fm.group(1), c.type)
        if fill is None:
            raise UnderstandingError(
                f"could not read the value for existing NULLs: {fm.group(1)!r}"
            )
        ctx.categories += ["backfill"]
    else:
        ctx.warnings.append(
            f"the upgrade fails if {t.name}.{col} still holds NULLs; backfill them first"
        )
    return ctx.plan(
        f"Make {t.name}.{col} NOT NULL",
        [P.SetNotNull(table=t.qualified_name, column=col, backfill=fill)],
        f"make_{t.name}_{col}_not_null",
    )
