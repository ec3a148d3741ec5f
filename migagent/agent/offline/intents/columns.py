"""Column intents: add a column, its default (also stated as a business rule), nullability."""

from __future__ import annotations

import re

from migagent.agent import plan as P
from migagent.agent.errors import UnderstandingError
from migagent.agent.offline.common import (
    EXTENSION_TYPES,
    idx_name,
    infer_type,
    qtable,
    read_labels,
)
from migagent.agent.offline.context import Ctx
from migagent.agent.offline.lexicon import (
    find_type,
    find_types,
    parse_value,
    plural,
    ref_action,
    singular,
)
from migagent.agent.offline.naming import new_column_name
from migagent.agent.satypes import normalize_type, type_family
from migagent.tools.introspect.model import Table


def maybe_add_column(ctx: Ctx) -> P.DraftPlan | None:
    try:
        t = ctx.r.subject_table()
    except UnderstandingError:
        return None
    if new_column_name(ctx, t) is None:
        return None
    return add_column(ctx)


def add_column(ctx: Ctx) -> P.DraftPlan | None:
    t = ctx.r.subject_table()
    found = new_column_name(ctx, t)
    if found is None:
        return None
    name, end = found
    if t.column(name):
        raise UnderstandingError(f"{t.name}.{name} already exists")
    ctx.categories += ["add_column"]
    rest = ctx.r.text[end:]
    low_rest = rest.lower()
    ops: list = []
    enums = {e.name: e for e in ctx.snap.enums.values()}
    # an enum type: existing, or created here ("as a Postgres enum type called x: a / b / c")
    typ_text = None
    if re.search(r"\benum\b", ctx.low):
        nm = re.search(r"\benum(?:\s+type)?\s+(?:called\s+|named\s+)?[`'\"]?([a-z_]\w*)", ctx.low)
        ename = (
            nm.group(1)
            if nm and nm.group(1) not in ("type", "with", "of", "called", "named")
            else f"{singular(t.name)}_{name}"
        )
        if ename in enums:
            typ_text = ename
        else:
            labels = read_labels(ctx.r.text)
            if not labels:
                raise UnderstandingError(
                    "found no enum values in the request",
                    ["write them as 'a', 'b', 'c' or a / b / c"],
                )
            ops.append(P.CreateEnum(name=ename, labels=labels))
            typ_text = ename
            ctx.categories += ["enum", "create_enum"]
    for ename in enums:
        if typ_text is None and re.search(rf"\b{re.escape(ename)}\b", low_rest):
            typ_text = ename
    typ = None if typ_text else find_type(rest[:80])
    if (
        typ_text is None
        and typ is None
        and len(find_types(ctx.low)) == 1
        and ctx.phrase_name != name  # its type word is its name
    ):
        typ = find_type(ctx.low)
    # <thing>_id where <things>.id exists: the referenced key's type, and the foreign key
    key_of = _referenced_by_name(ctx, t, name)
    inferred_fk = None
    if key_of is not None:
        rt, rpk = key_of
        rtype = rt.column(rpk).type
        given = typ_text or (normalize_type(typ[0]) if typ else None)
        if given is None:
            typ_text = rtype
            inferred_fk = rt
            ctx.assumptions.append(
                f"{t.name}.{name} references {rt.name}.{rpk}, so it is {rtype} with a foreign key"
            )
        elif type_family(given) != type_family(rtype) and given not in enums:
            raise UnderstandingError(
                f"{t.name}.{name} reads as a reference to {rt.name}.{rpk}, which is {rtype}, "
                f"but the request types it {given}",
                [f"{rt.name}.{rpk} is {rtype}"],
                f"say 'add {name} {rtype} to {t.name}' for the reference, or give the column "
                "another name",
            )
    if typ_text is None and typ is None:
        typ_text = infer_type(name, ctx.snap)
        if typ_text is None:
            raise UnderstandingError(
                f"understood: add a column {name} to {t.name}; missing: its type (the name "
                "does not say it)",
                None,
                f"say the type, e.g. 'add {name} text to {t.name}' (or bigint, boolean, "
                "timestamptz, numeric(12,2), interval, 'up to 32 characters')",
            )
        ctx.assumptions.append(f"{t.name}.{name} typed {typ_text} (inferred from its name)")
    elif typ_text is None:
        typ_text = typ[0]
    if typ_text in ("serial", "bigserial"):
        typ_text = {"serial": "integer", "bigserial": "bigint"}[typ_text]
    not_null = bool(
        re.search(
            r"\bnot\s+null\b|\brequired\b|\bnon-?null(?:able)?\b|\bmandatory\b|\bmust\s+be\s+set\b",
            ctx.low,
        )
    ) and not re.search(r"(?<!non-)(?<!non)\bnullable\b|\boptional\b", ctx.low)
    default = None
    dm = re.search(
        r"\bdefault(?:s|ing)?(?:\s+(?:it|value))?\s*(?:to|of|=|:|is|should\s+be)?\s+(.+?)(?:$|[.;]\s|,\s|\s+and\s|\))",
        ctx.r.text + " ",
        re.I,
    )
    if dm:
        default = parse_value(
            dm.group(1), normalize_type(typ_text) if typ_text not in enums else None
        )
        if default is None:
            raise UnderstandingError(f"could not read the default value {dm.group(1)!r}")
        if typ_text in enums or any(isinstance(o, P.CreateEnum) for o in ops):
            default = default if "'" in default else f"'{default}'"
    elif fm := re.search(
        r"\b(?:existing|old|current)\s+\w+\s+(?:are|is|should\s+be|get|become)\s+(?:all\s+)?('[^']*'|\S+)",
        ctx.r.text,
        re.I,
    ):
        default = parse_value(fm.group(1), normalize_type(typ_text))
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
        fill = _expression(ctx, t, em.group(1))
    src = re.search(
        r"\b(?:filled|populated|backfilled|copied|taken)\s+(?:in\s+)?(?:from|with)\s+(?:the\s+)?([a-z_]\w*)\.([a-z_]\w*)",
        ctx.low,
    )
    col = P.ColumnDef(name=name, type=typ_text, nullable=not not_null, default=default)
    if fill is not None or src is not None:
        ops.append(
            P.AddColumn(table=t.qualified_name, column=col.model_copy(update={"nullable": True}))
        )
        if src is not None:
            ops.append(_join_backfill(ctx, t, name, src.group(1), src.group(2)))
        else:
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
    # references / unique / index attached to the new column
    ref = re.search(
        r"\b(?:references?|referencing|foreign\s+key\s+(?:to|on)|fk\s+to|points?\s+(?:to|at)|pointing\s+(?:to|at)|linked\s+to)\s+(?:the\s+)?(?:another\s+|an?\s+|other\s+)?([a-z_][\w.]*)",
        ctx.low,
    )
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
        ops.append(
            P.AddForeignKey(
                table=t.qualified_name,
                name=f"{t.name}_{name}_fkey",
                columns=[name],
                ref_table=rt.qualified_name,
                ref_columns=ctx.pk(rt),
                on_delete=ref_action(ctx.low),
            )
        )
    if re.search(r"\bunique\b", low_rest):
        ctx.categories += ["unique"]
        ops.append(P.AddUnique(table=t.qualified_name, name=f"{t.name}_{name}_key", columns=[name]))
    elif re.search(r"\bindex(?:ed)?\b|\bidx\b", ctx.low):
        ctx.categories += ["index"]
        ops.append(
            P.CreateIndex(table=t.qualified_name, name=idx_name(t.name, [name], "idx"), keys=[name])
        )
    return ctx.plan(f"Add column {t.name}.{name}", ops, f"add_{name}_to_{t.name}")


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


def _expression(ctx: Ctx, t: Table, text: str) -> str:
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
    t = ctx.r.subject_table()
    col = ctx.one_column(t, "change the default of")
    c = t.column(col)
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
    m = re.search(
        r"\bdefault(?:s|ing)?(?:\s+(?:value|it))?\s*(?:to|of|=|:|is|as|should\s+be|becomes?)?\s+(.+?)(?:$|[.;]\s|,\s|\s+when\b|\s+if\b|\s+for\b|\s+and\b|\s+instead\b)",
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
        t = ctx.r.subject_table()
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
    c = t.column(col)
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
    t = ctx.r.subject_table()
    drop = ctx.has(
        r"\ballow\b[^;]{0,60}?\bto\s+be\s+(?:null|empty|missing|blank|unset)\b|\boptional\b|\b(?<!non-)nullable\b|\ballow\s+nulls?\b|\b(?:drop|remove|delete|get\s+rid\s+of)\s+(?:the\s+)?not[\s-]+null\b|\bcan\s+be\s+(?:null|empty|missing)\b|\bno\s+longer\s+required\b|\bnot\s+required\b"
    )
    col = ctx.one_column(t, "make " + ("nullable" if drop else "NOT NULL"))
    c = t.column(col)
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
