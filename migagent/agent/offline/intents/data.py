"""Data intents: UPDATE/DELETE-like statements in words and backfills of existing columns."""

from __future__ import annotations

import re

from migagent.agent import plan as P
from migagent.agent.errors import UnderstandingError
from migagent.agent.offline import data_intents
from migagent.agent.offline.context import Ctx
from migagent.agent.offline.lexicon import (
    parse_value,
    singular,
)


def data_statement(ctx: Ctx) -> P.DraftPlan | None:
    if re.search(data_intents.FILL_REQUIRE_TRIGGER, ctx.low):
        plan = fill_then_require(ctx)
        if plan is not None:
            return plan
    if not re.search(data_intents.STATEMENT_TRIGGER, ctx.low):
        return None
    return data_intents.plan_data_statement(ctx)


# the column must hold a value from now on
_REQUIRED = re.compile(
    r"\bnot\s+null\b|\bmandatory\b|\brequired\b|\bnon-?null(?:able)?\b|\bmust\s+always\s+be\s+set\b|"
    r"\b(?:must|should|may|can)\s*(?:not|n't|never)\s+be\s+null\b"
)
_NOT_REQUIRED = re.compile(
    r"\b(?:no\s+longer|not)\s+(?:required|mandatory)\b|\bstays?\s+nullable\b"
)
# the rows still NULL: the words a fill names them by
_NULL_ROWS = (
    r"(?:the\s+|any\s+|all\s+|existing\s+|old\s+)*(?:nulls?|missing(?:\s+(?:ones|values?|rows))?|"
    r"empty\s+ones|blanks?|those|them|it|these|the\s+(?:old|existing)\s+(?:rows|ones))"
)
_VALUE_END = r"(?=\s*(?:$|[.;!]\s|[.;!]$|,|\s+then\b|\s+first\b|\s+so\b|\s+before\b|\s+and\s+(?:then\s+)?(?:make|put|set|add)\b))"
# where the value for the NULL rows is told, in the phrasings commits and tickets use
_FILL_VALUE = [
    re.compile(
        rf"\b(?:back)?fill(?:s|ed|ing)?(?:\s+in)?\s+(?:{_NULL_ROWS}\s+(?:(?:in|of)\s+)?)?(?:[a-z_][\w.]*\s+)?"
        rf"(?:in\s+)?(?:with|to|from|as|using)\s+(.+?){_VALUE_END}"
    ),
    re.compile(
        rf"\b(?:set|default|populate|replace)(?:s|d)?\s+{_NULL_ROWS}\s+(?:with|to|as|from)\s+(.+?){_VALUE_END}"
    ),
    re.compile(rf"\bnulls?\s+(?:become|get|should\s+(?:be|become|get))\s+(.+?){_VALUE_END}"),
    re.compile(
        r"\b(?:set|update|fill|backfill)(?:s|ed)?\s+[a-z_][\w.]*\s+(?:to|with)\s+(.+?)\s+(?:where|wherever|when|if)\s+"
        r"(?:it\s+is\s+|it's\s+|they\s+are\s+)?(?:null|missing|unset)\b"
    ),
    re.compile(rf"\b(?:use|take|copy)(?:s)?\s+(?:their|its|the(?:ir)?)\s+(.+?){_VALUE_END}"),
    re.compile(rf"\b(?:treated|counted|taken|read)\s+as\s+(.+?){_VALUE_END}"),
    re.compile(
        r"\b(?:using|use|with|take|taking)\s+(?:their\s+|its\s+)?(.+?)\s+for\s+(?:the\s+|any\s+|all\s+)?"
        r"(?:missing|null|empty|unset)(?:\s+(?:ones|rows|values))?\b|\bfor\s+(?:the\s+)?(?:missing|null)\s+(?:ones|rows|values)\b"
        r"\s*,?\s+(?:use|take)\s+(?:their\s+|its\s+)?(.+?)" + _VALUE_END
    ),
]


def fill_then_require(ctx: Ctx) -> P.DraftPlan | None:
    """An existing nullable column made NOT NULL after its NULL rows are filled
    ("backfill NULLs with 'x' then make it NOT NULL", "for the rows missing it use
    their created_at, then put a NOT NULL on the column", "older rows count as 4, fill
    those in first, then make it required"): one SET NOT NULL whose backfill fills
    exactly the NULL rows (the only rows the constraint needs filled)."""
    masked = data_intents.mask(ctx.low)
    if not _REQUIRED.search(masked) or _NOT_REQUIRED.search(masked):
        return None
    fm = next((m for p in _FILL_VALUE if (m := p.search(masked))), None)
    if fm is None:
        return None
    group = next(g for g in range(1, (fm.lastindex or 1) + 1) if fm.group(g) is not None)
    raw = ctx.text[fm.start(group) : fm.end(group)].strip()
    t = ctx.r.subject_table(required=False)
    if t is None:
        return None
    named = [
        m.column
        for m in ctx.r.column_mentions(t)
        if m.column and not (fm.start(group) <= m.start < fm.end(group))
    ]
    named = list(dict.fromkeys(named))
    dotted = [c for m, c in ctx.r.dotted() if m.table is t]
    cols = [c for c in (dotted or named) if (col := t.column(c)) is not None]
    if len(cols) != 1:
        return None  # the column to fill and require is not told once: leave it to others
    column = cols[0]
    col = t.column(column)
    if col is None or not col.nullable:
        return None
    # "treated as serving 4": words that echo the column before the value
    echo = re.match(r"([a-z]+)\s+(.+)$", raw, re.I)
    if echo and singular(echo.group(1).lower()) in (singular(column.lower()), column.lower()):
        raw = echo.group(2)
    scope = data_intents.Scope(t, ctx.r.tables)
    value = data_intents.read_value(raw, scope, column)
    if scope.joined:
        return None  # a value read from another table: the data statement's join
    ctx.categories += ["not_null", "data_migration", "backfill"]
    ctx.assumptions.append(
        f"the rows where {t.name}.{column} IS NULL get {value.sql} before SET NOT NULL "
        "(the only rows the constraint needs filled; values already set stay)"
    )
    if value.assumption:
        ctx.assumptions.append(value.assumption)
    ctx.warnings.append(
        f"a data migration: the downgrade drops NOT NULL but keeps the filled values of {t.name}.{column}"
    )
    return ctx.plan(
        f"Fill the NULLs of {t.name}.{column} with {value.sql} and make it NOT NULL",
        [P.SetNotNull(table=t.qualified_name, column=column, backfill=value.sql)],
        f"{t.name}_{column}_fill_not_null",
    )


def data_statement_final(ctx: Ctx) -> P.DraftPlan | None:
    if not re.search(data_intents.STATEMENT_TRIGGER, ctx.low):
        return None
    return data_intents.plan_data_statement(ctx, final=True)


def backfill(ctx: Ctx) -> P.DraftPlan | None:
    # "backfill orders.customer_email from customers.email" / "populate X from Y"
    m = re.search(
        r"\b(?:backfill|populate|fill(?:\s+in)?|copy)\s+(?:the\s+)?(?:new\s+)?([a-z_][\w.]*)(?:\s+column)?(?:\s+(?:on|of|in)\s+(?:the\s+)?([a-z_]\w*))?\s+(?:from|with|using|into|to)\s+(?:the\s+)?(.+)$",
        ctx.low,
    )
    if not m:
        return None
    target, owner, rest = m.group(1), m.group(2), m.group(3)
    if target in ("it", "them", "this", "that"):
        return None  # "add X ... and backfill it with ...": the column another intent adds
    copy_into = re.search(r"\bcopy\b", ctx.low) and re.search(
        r"\b(?:into|to)\b", ctx.low[m.start(3) - 6 : m.start(3)]
    )
    if copy_into:
        # copy X into Y: target is Y
        into = re.match(r"([a-z_][\w.]*)", rest)
        if into is None:
            return None
        target, rest = into.group(1), target
    if "." in target:
        found = ctx.r.table_named(target.split(".")[0])
        t = found[0] if found else None
        tcol = target.split(".", 1)[1]
    else:
        found = ctx.r.table_named(owner) if owner else []
        t = found[0] if found else ctx.r.subject_table(prefer_columns=[target])
        tcol = target
    if t is None:
        raise UnderstandingError(f"could not tell which table {target} to backfill is in")
    c = ctx.r.column_named(t, tcol)
    if c is None:
        raise UnderstandingError(f"{t.name} has no column {tcol} to backfill")
    target_col = t.column(c)
    if target_col is None:
        raise UnderstandingError(f"{t.name} has no column {tcol} to backfill")
    ctx.categories += ["data_migration", "backfill"]
    # source: other_table.column through a foreign key, or columns of the same table
    sm = re.match(r"([a-z_][\w]*)\.([a-z_]\w*)", rest)
    src_found = ctx.r.table_named(sm.group(1)) if sm else []
    if sm and src_found and src_found[0] is not t:
        src_t = src_found[0]
        src_c = ctx.r.column_named(src_t, sm.group(2))
        if src_c is None:
            raise UnderstandingError(f"{src_t.name} has no column {sm.group(2)}")
        fk = next(
            (
                k
                for k in t.constraints
                if k.kind == "foreign_key" and k.ref_table == src_t.qualified_name
            ),
            None,
        )
        if fk is None:
            cand = [col.name for col in t.columns if col.name in (f"{singular(src_t.name)}_id",)]
            if not cand:
                raise UnderstandingError(
                    f"no foreign key from {t.name} to {src_t.name} to join on",
                    [
                        f"foreign keys of {t.name}: {', '.join(k.name for k in t.constraints if k.kind == 'foreign_key') or 'none'}"
                    ],
                )
            join = f"src.{ctx.pk(src_t)[0]} = dst.{cand[0]}"
        else:
            join = " AND ".join(
                f"src.{rc} = dst.{lc}" for lc, rc in zip(fk.columns, fk.ref_columns, strict=False)
            )
        op = P.Backfill(
            table=t.qualified_name,
            column=c,
            value=f"src.{src_c}",
            alias="dst",
            from_sql=f"{src_t.name} AS src",
            join_on=join,
            where=None if ctx.has(r"\ball\b|\boverwrite\b") else f"dst.{c} IS NULL",
        )
        return ctx.plan(
            f"Backfill {t.name}.{c} from {src_t.name}.{src_c}", [op], f"backfill_{t.name}_{c}"
        )
    src_cols = [
        x.column
        for x in ctx.r.column_mentions(t, start=m.start(3))
        if x.column is not None and x.column != c
    ]
    if not src_cols:
        value = parse_value(rest, target_col.type)
        if value is None:
            raise UnderstandingError(
                f"could not tell what to fill {t.name}.{c} with", [f"read: {rest!r}"]
            )
        op = P.Backfill(table=t.qualified_name, column=c, value=value, where=f"{c} IS NULL")
        return ctx.plan(f"Backfill {t.name}.{c}", [op], f"backfill_{t.name}_{c}")
    if len(src_cols) == 1:
        value = src_cols[0]
        src_col = t.column(src_cols[0])
        if src_col is not None and target_col.type != src_col.type:
            value = f"{src_cols[0]}::{target_col.type}"
    else:
        value = f"NULLIF(concat_ws(' ', {', '.join(src_cols)}), '')"
    op = P.Backfill(table=t.qualified_name, column=c, value=value, where=f"{c} IS NULL")
    return ctx.plan(
        f"Backfill {t.name}.{c} from {', '.join(src_cols)}", [op], f"backfill_{t.name}_{c}"
    )
