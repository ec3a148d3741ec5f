"""Search intents: full-text search (tsvector column + GIN index) and trigram indexes."""

from __future__ import annotations

import re

from migagent.agent import plan as P
from migagent.agent.errors import AmbiguousRequest, UnderstandingError
from migagent.agent.offline.common import (
    TEXT_SEARCH_CONFIGS,
    idx_name,
)
from migagent.agent.offline.context import Ctx
from migagent.agent.satypes import type_family


def full_text(ctx: Ctx) -> P.DraftPlan:
    ctx.categories += ["add_column", "generated_column", "index", "full_text_search"]
    t = ctx.r.subject_table()
    col = None
    cm = re.search(
        r"\b(?:column|vector|tsvector)\s+(?:named\s+|called\s+)[`'\"]?([a-z_]\w*)", ctx.low
    ) or re.search(r"\b(?:column|vector)\s+[`'\"]([a-z_]\w*)[`'\"]", ctx.low)
    if cm and not t.column(cm.group(1)):
        col = cm.group(1)
    if col is None:
        for cand in re.findall(r"\b([a-z_]*(?:vector|tsv|search)[a-z_]*)\b", ctx.low):
            if "_" in cand and not t.column(cand):
                col = cand
                break
    col = col or "search_vector"
    existing = t.column(col)
    if existing is not None and existing.type == "tsvector":
        raise UnderstandingError(f"{t.name}.{col} already exists as a tsvector column")
    named = re.search(
        r"\b(?:index|gin)\b[^.]*?\b(?:named|called)\s+[`'\"]?([a-z_][\w]*)", ctx.low
    ) or re.search(r"\b(idx_[a-z_0-9]+|[a-z_0-9]+_(?:idx|fts))\b", ctx.low)
    ix_name = named.group(1) if named else f"idx_{t.name}_fts"
    lang = next(
        (c for c in TEXT_SEARCH_CONFIGS if re.search(rf"(?<![\w-]){c}(?![\w-])", ctx.low)),
        None,
    )
    if lang is None:
        lang = "english"
        ctx.assumptions.append("text search configuration 'english' (none was named)")
    mentioned = [
        c for c in ctx.columns_of(t) if c != col and type_family(t.column(c).type) == "text"
    ]
    sources = mentioned
    if not sources:
        sources = [
            c.name
            for c in t.columns
            if type_family(c.type) == "text"
            and not c.generated
            and not re.search(
                r"(_id|_key|_hash|_token|_url|^email|^status|^slug|^sku|^version|^code|^kind|^type|^state|^currency|^phone|^language|^locale)$|^(id|uuid)$",
                c.name,
            )
            and not ((m := re.search(r"\((\d+)\)", c.type)) and int(m.group(1)) < 100)
        ]
        if not sources:
            raise UnderstandingError(
                f"could not tell which columns of {t.name} to search",
                [f"text columns of {t.name}: none found"],
            )
        ctx.assumptions.append(f"search over {', '.join(sources)} (the text columns of {t.name})")
    weights: dict[str, str] = {}
    sources = list(sources)
    for c in sources:
        wm = re.search(
            rf"\b{re.escape(c)}\b[^,.;]{{0,25}}?\bweight\s+([abcd])\b()", ctx.low
        ) or re.search(rf"\bweight\s+([abcd])\b[^,.;]{{0,20}}?\b{re.escape(c)}\b()", ctx.low)
        if wm:
            weights[c] = (wm.group(1) or wm.group(2)).upper()
    if weights:
        sources = [c for c in sources if c in weights]
        parts = [
            f"setweight(to_tsvector('{lang}', coalesce({c}, '')), '{weights.get(c, 'D')}')"
            for c in sources
        ]
        expr = " || ".join(parts)
        ctx.categories += ["weighted"]
    else:
        body = " || ' ' || ".join(f"coalesce({c}, '')" for c in sources)
        expr = f"to_tsvector('{lang}', {body})"
    if ctx.snap.server_version < 120000:
        raise UnderstandingError("generated columns need PostgreSQL 12 or later")
    ops: list = [
        P.AddColumn(
            table=t.qualified_name,
            column=P.ColumnDef(name=col, type="tsvector", generated=expr),
        ),
        P.CreateIndex(table=t.qualified_name, name=ix_name, keys=[col], method="gin", kind="fts"),
    ]
    return ctx.plan(f"Add full-text search to {t.name}", ops, f"add_fulltext_search_to_{t.name}")


def trigram(ctx: Ctx) -> P.DraftPlan:
    ctx.categories += ["index", "trigram", "extension"]
    t = ctx.r.subject_table()
    cols = [c for c in ctx.columns_of(t) if type_family(t.column(c).type) == "text"]
    dotted = [ctx.r.column_named(t, c) for m, c in ctx.r.dotted() if m.table is t]
    cols = [c for c in dotted if c] or cols
    if not cols:
        raise UnderstandingError(
            f"could not tell which text column of {t.name} to index with trigrams"
        )
    if len(cols) > 1 and not ctx.has(r"\b(?:both|and)\b"):
        raise AmbiguousRequest(f"more than one column of {t.name} could be meant", cols)
    method = "gist" if ctx.has(r"\bgist\b") else "gin"
    opclass = "gist_trgm_ops" if method == "gist" else "gin_trgm_ops"
    ops: list = ctx.extension_ops("pg_trgm")
    for c in cols:
        ops.append(
            P.CreateIndex(
                table=t.qualified_name,
                name=ctx.explicit_name() or idx_name(t.name, [c], "trgm_idx"),
                keys=[c],
                method=method,
                opclasses={c: opclass},
                kind="trigram",
            )
        )
    return ctx.plan(f"Add trigram index on {t.name}.{', '.join(cols)}", ops)
