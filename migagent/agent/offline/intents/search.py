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
from migagent.tools.introspect.model import Table

# "as an expression index", "we'd rather not add a column", "without adding a column"
NO_COLUMN = (
    r"\bexpression\s+index\b|\bindex\s+the\s+expression\b"
    r"|\bwithout\s+(?:add(?:ing)?\s+|a\s+|an\s+)*(?:new\s+|extra\s+|generated\s+|stored\s+)?column"
    r"|\b(?:rather\s+not|don't|do\s+not|not|never|no\s+need\s+to)\s+(?:want\s+to\s+)?add(?:ing)?\s+(?:a\s+|an\s+|any\s+)?(?:new\s+|extra\s+)?column"
    r"|\bno\s+(?:new|extra|generated|stored|added)\s+columns?\b"
)


def _family(t: Table, column: str) -> str | None:
    c = t.column(column)
    return type_family(c.type) if c is not None else None


def _document(t: Table, lang: str, sources: list[str], *, minimal: bool) -> str:
    """The tsvector of the source columns. A NULL part would make the concatenation NULL
    and hide the row, so nullable columns get coalesce; `minimal` (an expression index,
    whose expression every query must repeat word for word) leaves NOT NULL ones bare."""

    def part(name: str) -> str:
        c = t.column(name)
        return name if minimal and c is not None and not c.nullable else f"coalesce({name}, '')"

    body = " || ' ' || ".join(part(c) for c in sources)
    return f"to_tsvector('{lang}', {body})"


def full_text(ctx: Ctx) -> P.DraftPlan:
    t = ctx.subject()
    as_index = ctx.has(NO_COLUMN)
    ctx.categories += (
        ["index", "expression_index", "full_text_search"]
        if as_index
        else ["add_column", "generated_column", "index", "full_text_search"]
    )
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
    mentioned = [c for c in ctx.columns_of(t) if c != col and _family(t, c) == "text"]
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
        expr = _document(t, lang, sources, minimal=as_index)
    if as_index:
        name = named.group(1) if named else f"{t.name}_search_fts_idx"
        ctx.assumptions.append(
            f"queries must repeat the indexed expression to use the index: {expr} @@ <tsquery>"
        )
        index = P.CreateIndex(
            table=t.qualified_name, name=name, keys=[expr], method="gin", kind="expression"
        )
        return ctx.plan(f"Add full-text search index to {t.name}", [index], f"add_{name}")
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
    t = ctx.subject()
    cols = [c for c in ctx.columns_of(t) if _family(t, c) == "text"]
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
