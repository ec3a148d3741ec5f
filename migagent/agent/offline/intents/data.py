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
    return data_intents.plan_data_statement(ctx)


def data_statement_final(ctx: Ctx) -> P.DraftPlan | None:
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
        src_word = target
        target = re.match(r"([a-z_][\w.]*)", rest).group(1)
        rest = src_word
    if "." in target:
        t = ctx.r.table_named(target.split(".")[0])[0]
        tcol = target.split(".", 1)[1]
    else:
        t = (
            (ctx.r.table_named(owner) or [None])[0]
            if owner
            else ctx.r.subject_table(prefer_columns=[target])
        )
        tcol = target
    c = ctx.r.column_named(t, tcol)
    if c is None:
        raise UnderstandingError(f"{t.name} has no column {tcol} to backfill")
    ctx.categories += ["data_migration", "backfill"]
    # source: other_table.column through a foreign key, or columns of the same table
    sm = re.match(r"([a-z_][\w]*)\.([a-z_]\w*)", rest)
    if sm and ctx.r.table_named(sm.group(1)) and ctx.r.table_named(sm.group(1))[0] is not t:
        src_t = ctx.r.table_named(sm.group(1))[0]
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
    src_cols = [x.column for x in ctx.r.column_mentions(t, start=m.start(3)) if x.column != c]
    if not src_cols:
        value = parse_value(rest, t.column(c).type)
        if value is None:
            raise UnderstandingError(
                f"could not tell what to fill {t.name}.{c} with", [f"read: {rest!r}"]
            )
        op = P.Backfill(table=t.qualified_name, column=c, value=value, where=f"{c} IS NULL")
        return ctx.plan(f"Backfill {t.name}.{c}", [op], f"backfill_{t.name}_{c}")
    if len(src_cols) == 1:
        value = src_cols[0]
        if t.column(c).type != t.column(src_cols[0]).type:
            value = f"{src_cols[0]}::{t.column(c).type}"
    else:
        value = f"NULLIF(concat_ws(' ', {', '.join(src_cols)}), '')"
    op = P.Backfill(table=t.qualified_name, column=c, value=value, where=f"{c} IS NULL")
    return ctx.plan(
        f"Backfill {t.name}.{c} from {', '.join(src_cols)}", [op], f"backfill_{t.name}_{c}"
    )
