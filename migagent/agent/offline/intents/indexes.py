"""Index intents: create an index (partial, expression, method), unique, drop an index in words."""

from __future__ import annotations

import re

from migagent.agent import plan as P
from migagent.agent.errors import AmbiguousRequest, UnderstandingError
from migagent.agent.offline.common import (
    PLACEHOLDER,
    SOFT_DELETED,
    idx_name,
)
from migagent.agent.offline.context import Ctx
from migagent.agent.offline.intents.drops import drop
from migagent.agent.offline.lexicon import (
    singular,
    snake,
)
from migagent.agent.offline.resolve import STOP
from migagent.agent.satypes import type_family
from migagent.tools.introspect.model import Table


def drop_index_in_words(ctx: Ctx) -> P.DraftPlan | None:
    """An index to drop described by words, not its name: "drop stale audit index",
    "drop the redundant tracking_ref index on parcels". Every content word must be in
    the index's name, keys or table; "redundant"/"duplicate" keeps the indexes another
    index of the same table already covers (same leading keys). One index, or a
    refusal naming the candidates."""
    m = ctx.search(
        r"\b(?:drop|remove|delete|get\s+rid\s+of)\b(.{0,80}?)\b(?:index|indexes|idx)\b(?:\s+(?:on|of|for|in)\s+(.{0,60}))?"
    )
    if not m:
        return None
    if any(
        re.search(rf"\b{re.escape(ix.name.lower())}\b", ctx.low)
        for t in ctx.r.tables
        for ix in t.indexes
    ) or any(
        k.kind != "not_null" and re.search(rf"\b{re.escape(k.name.lower())}\b", ctx.low)
        for t in ctx.r.tables
        for k in t.constraints
    ):
        return drop(ctx)  # named: the plain drop
    phrase = f"{m.group(1)} {m.group(2) or ''}"
    redundant = bool(re.search(r"\b(?:redundant|duplicated?|superfluous|covered)\b", phrase))
    filler = STOP | {
        "stale", "old", "unused", "redundant", "duplicate", "duplicated", "legacy", "extra",
        "obsolete", "useless", "superfluous", "covered", "unneeded", "unnecessary", "now",
        "btree", "existing", "separate", "single", "column", "simple", "plain", "its",
    }  # fmt: skip
    wanted = [
        w
        for w in re.split(r"[^a-z0-9]+", phrase.lower())
        if w and w not in filler and not w.isdigit()
    ]
    cands = []
    for t in ctx.r.tables:
        for ix in t.indexes:
            if ix.primary or ix.constraint:
                continue
            tokens = set(re.split(r"[^a-z0-9]+", " ".join([ix.name, t.name, *ix.keys]).lower()))
            tokens |= {singular(x) for x in tokens}
            if all(w in tokens or singular(w) in tokens for w in wanted):
                cands.append((t, ix))
    if redundant:

        def covered(t: Table, ix) -> bool:
            return any(
                o.name != ix.name
                and o.method == ix.method
                and not o.predicate
                and not ix.predicate
                and o.keys[: len(ix.keys)] == ix.keys
                and (len(o.keys) > len(ix.keys) or o.unique or not ix.unique)
                for o in t.indexes
            )

        cands = [(t, ix) for t, ix in cands if covered(t, ix)]
    if not wanted and not redundant:
        return None
    if not cands:
        described = " ".join(phrase.split())
        raise UnderstandingError(
            f"found no index that is {described!r}",
            [
                "indexes: "
                + ", ".join(ix.name for t in ctx.r.tables for ix in t.indexes if not ix.primary)[
                    :400
                ]
            ],
            "name the index to drop, e.g. 'drop index <name>'",
        )
    if len(cands) > 1:
        raise AmbiguousRequest(
            "more than one index fits that description",
            [ix.name for _, ix in cands],
            "name the index to drop, e.g. 'drop index <name>'",
        )
    t, ix = cands[0]
    ctx.assumptions.append(f"the index meant is {ix.name} on {t.name} ({', '.join(ix.keys)})")
    return ctx.plan(
        f"Drop index {ix.name}",
        [P.DropIndex(table=t.qualified_name, name=ix.name)],
        f"drop_{ix.name}",
    )


def index(ctx: Ctx, force_unique: bool = False) -> P.DraftPlan | None:
    if (
        not force_unique
        and ctx.has(r"\bunique\s+constraint\b|\bconstraint\b[^.]*\bnot\s+(?:just\s+)?an?\s+index\b")
        and not ctx.has(r"\blower\(|\bcase[- ]insensitiv|\bignoring\s+case\b")
    ):
        return make_unique(ctx)
    # a query pasted in the request: derive keys and predicate from it
    q = re.search(r"\bselect\b.+?\bfrom\s+([a-z_][\w.]*)(.*)", ctx.low, re.S)
    t = None
    keys: list[str] = []
    where = None
    if q and ctx.r.table_named(q.group(1)):
        t = ctx.r.table_named(q.group(1))[0]
        tail = q.group(2)
        wm = re.search(
            r"\bwhere\s+(.+?)(?=\border\s+by\b|\blimit\b|\bgroup\s+by\b|[`;]|$)", tail, re.S
        )
        om = re.search(
            r"\border\s+by\s+((?:[a-z_]\w*(?:\s+(?:asc|desc))?(?:\s+nulls\s+(?:first|last))?\s*,\s*)*[a-z_]\w*(?:\s+(?:asc|desc))?(?:\s+nulls\s+(?:first|last))?)",
            tail,
        )
        conds = [c.strip() for c in re.split(r"\band\b", wm.group(1))] if wm else []
        eq_cols, const_conds = [], []
        for c in conds:
            cm = re.match(r"([a-z_]\w*)\s*(=|<|>|<=|>=|in|is)\s*(.+)$", c.strip())
            if not cm or not t.column(cm.group(1)):
                continue
            if re.match(r"'[^']*'$|\d+$|true|false|null", cm.group(3).strip()) and ctx.has(
                r"\bpartial\b|\bonly\b|%"
            ):
                const_conds.append(f"{cm.group(1)} {cm.group(2)} {cm.group(3).strip()}")
            else:
                eq_cols.append(cm.group(1))
        order_cols = []
        for piece in om.group(1).split(",") if om else []:
            words_ = piece.split()
            if words_ and t.column(words_[0]):
                mods = " ".join(
                    w.upper() for w in words_[1:] if w in ("asc", "desc", "nulls", "first", "last")
                )
                if mods in ("", "ASC"):
                    order_cols.append(words_[0])
                else:
                    order_cols.append(f"{words_[0]} {mods}")
        keys = [c for c in eq_cols + order_cols if t.column(c.split()[0])]
        where = " AND ".join(const_conds) or None
        if not keys and where:
            keys = [c.split()[0] for c in const_conds]
    if t is None:
        t = ctx.r.subject_table()
        om2 = re.search(
            r"\border\s+by\s+((?:[a-z_]\w*(?:\s+(?:asc|desc))?(?:\s+nulls\s+(?:first|last))?\s*,\s*)*[a-z_]\w*(?:\s+(?:asc|desc))?(?:\s+nulls\s+(?:first|last))?)",
            ctx.low,
        )
        if om2:
            for piece in om2.group(1).split(","):
                words_ = piece.split()
                if words_ and t.column(words_[0]):
                    mods = " ".join(w.upper() for w in words_[1:])
                    keys.append(words_[0] if mods in ("", "ASC") else f"{words_[0]} {mods}")
    ctx.categories += ["index"]
    if not keys:
        # explicit "(a, b)" list
        pm = re.search(r"\(\s*([a-z_]\w*(?:\s*,\s*[a-z_]\w*)+)\s*\)", ctx.low)
        if pm and all(t.column(c.strip()) for c in pm.group(1).split(",")):
            keys = [c.strip() for c in pm.group(1).split(",")]
    expr_keys: list[str] = []
    em = re.search(r"\b(lower|upper|date|coalesce|md5|left|date_trunc)\s*\(([^()]*)\)", ctx.low)
    if em:
        inner = em.group(2)
        cols = [c for c in re.findall(r"[a-z_]\w*", inner) if t.column(c)]
        if cols:
            expr_keys = [f"{em.group(1)}({inner.strip()})"]
    ci = ctx.has(
        r"\bcase[- ]insensitiv|\bignoring\s+case\b|\bregardless\s+of\s+case\b|\bany\s+case\b"
    )
    if not keys and not expr_keys:
        dotted = [ctx.r.column_named(t, c) for m, c in ctx.r.dotted() if m.table is t]
        keys = [c for c in dotted if c] or ctx.columns_of(t)
    if not keys and not expr_keys:
        raise UnderstandingError(
            f"could not tell which column(s) of {t.name} to index",
            [f"columns of {t.name}: {', '.join(c.name for c in t.columns)}"],
        )
    if ci and not expr_keys:
        expr_keys = [f"lower({k})" for k in keys if type_family(t.column(k).type) == "text"]
        if expr_keys:
            keys = []
    all_keys = expr_keys or keys
    if expr_keys:
        ctx.categories += ["expression_index"]
    # method
    method = "btree"
    opclasses: dict[str, str] = {}
    for name in ("brin", "gin", "gist", "hash", "spgist"):
        if ctx.has(rf"\b{name}\b"):
            method = name
    key_types = {k: t.column(k).type for k in keys if t.column(k)}
    if (
        method == "btree"
        and any(tp in ("jsonb", "tsvector") or tp.endswith("[]") for tp in key_types.values())
        and not ctx.has(r"\bbtree\b")
    ):
        method = "gin"
    # jsonb_path_ops only when asked for: the default jsonb_ops serves @> too, and the
    # key-exists operators (?, ?|, ?&) a later query may need
    if method == "gin" and ctx.has(r"jsonb_path_ops|path[_ ]ops|@>\s*only|containment\s+only"):
        opclasses = {k: "jsonb_path_ops" for k, tp in key_types.items() if tp == "jsonb"}
    if method != "btree":
        ctx.categories += [method]
    include = []
    im = re.search(
        r"\binclud(?:es|ing|e)\b\s*\(?\s*([a-z_]\w*(?:\s*(?:,|\band\b)\s*[a-z_]\w*)*)", ctx.low
    )
    if im:
        include = [c.strip() for c in re.split(r",|\band\b", im.group(1)) if t.column(c.strip())]
        keys = [k for k in keys if k not in include]
        all_keys = expr_keys or keys
    if where is None and force_unique:
        where = _predicate(ctx, t)
        if where:
            pcol = where.split()[0]
            keys = [k for k in keys if k != pcol]
            all_keys = expr_keys or keys
    if where is None:
        wm = re.search(r"\bwhere\s+(.+?)(?:$|[.;]\s|`)", ctx.text, re.I | re.S)
        if wm and not q:
            where = wm.group(1).strip().rstrip(".")
            if not any(t.column(c) for c in re.findall(r"[a-z_]\w*", where.lower())):
                raise UnderstandingError(
                    f"the index predicate {where!r} names no column of {t.name}"
                )
        elif (soft := _soft_delete_predicate(ctx, t)) is not None:
            where = soft
        elif ctx.has(r"\bpartial\b"):
            pm2 = re.search(
                r"\b(?:only|just)\s+(?:for\s+|the\s+|on\s+)?(?:rows\s+)?(?:where\s+)?([a-z_]\w*)\s+(?:is\s+)?(not\s+null|null|true|false|=\s*'[^']*')",
                ctx.low,
            )
            if pm2 and t.column(pm2.group(1)):
                v = pm2.group(2)
                where = (
                    f"{pm2.group(1)} IS {v.upper()}"
                    if v.endswith("null")
                    else f"{pm2.group(1)} {v}"
                    if v.startswith("=")
                    else f"{pm2.group(1)} = {v}"
                )
            else:
                raise UnderstandingError(
                    "a partial index was asked for, but no condition found",
                    ["write it as 'where status = ''pending'''"],
                )
    if where and PLACEHOLDER.search(where):
        # a query's parameters ($1, ?, :name) are not values: `col = $1` is a key
        kept = []
        for part in re.split(r"\s+and\s+", where, flags=re.I):
            pm3 = re.fullmatch(
                rf"\(?\s*([a-z_]\w*)\s*(?:=|<|>|<=|>=|in)\s*\(?\s*(?:{PLACEHOLDER.pattern})\s*\)?\s*\)?",
                part.strip(),
                re.I,
            )
            if pm3 and t.column(pm3.group(1).lower()):
                c_ = pm3.group(1).lower()
                if c_ not in [k.split()[0] for k in keys] and not expr_keys:
                    keys.insert(0, c_)
            elif PLACEHOLDER.search(part):
                raise UnderstandingError(
                    f"the condition {part.strip()!r} compares with a query parameter, which an "
                    "index cannot hold",
                    fix="write the condition with its constant value, e.g. \"where status = 'open'\"",
                )
            else:
                kept.append(part.strip())
        where = " AND ".join(kept) or None
        keys = [k for k in keys if not where or k.split()[0] not in where.lower().split()]
        all_keys = expr_keys or keys
    if any(PLACEHOLDER.search(k) for k in all_keys):
        raise UnderstandingError(
            "an index expression holds a query parameter ($1, ?), which is not a value",
            fix="index the column or the expression without the parameter",
        )
    if where:
        ctx.categories += ["partial_index"]
        in_where = {c for c in re.findall(r"[a-z_]\w*", where.lower()) if t.column(c)}
        rest_keys = [k for k in keys if k.split()[0] not in in_where]
        if rest_keys and not expr_keys:
            keys = rest_keys
            all_keys = keys
    unique = force_unique or ctx.has(r"\bunique\b|\buniqueness\b|\bno\s+duplicates?\b")
    if unique:
        ctx.categories += ["unique"]
    suffix = "key" if unique else "idx"
    parts = [
        re.sub(r"\W+", "_", re.sub(r"\s+(?:asc|desc|nulls\s+\w+)\b", "", k, flags=re.I)).strip("_")
        for k in all_keys
    ]
    if where:
        wv = re.findall(r"'([^']*)'", where)
        parts = ([snake(wv[0])] if wv else []) + parts
    name = ctx.explicit_name() or idx_name(t.name, parts, suffix)
    taken = {ix.name for x in ctx.snap.tables.values() for ix in x.indexes}
    if not ctx.explicit_name() and name in taken:  # PostgreSQL's own way: idx1, idx2
        base, n = name, 1
        while f"{base[:61]}{n}" in taken:
            n += 1
        name = f"{base[:61]}{n}"
    for ix in t.indexes:
        if (
            ix.keys == all_keys
            and (ix.predicate or None) == (where or None)
            and ix.method == method
            and (not unique or ix.unique)
        ):
            raise UnderstandingError(
                f"{t.name} already has index {ix.name} on ({', '.join(all_keys)})"
            )
    ops: list = []
    if method == "gin" and any(v.endswith("trgm_ops") for v in opclasses.values()):
        ops += ctx.extension_ops("pg_trgm")
    ops.append(
        P.CreateIndex(
            table=t.qualified_name,
            name=name,
            keys=all_keys,
            method=method,
            opclasses=opclasses,
            unique=unique,
            where=where,
            include=include,
            kind="unique"
            if unique
            else "partial"
            if where
            else "expression"
            if expr_keys
            else method,
        )
    )
    return ctx.plan(
        f"Add {'unique ' if unique else ''}{method if method != 'btree' else ''} index on {t.name} ({', '.join(all_keys)})".replace(
            "  ", " "
        ),
        ops,
        f"add_{name}",
    )


def make_unique(ctx: Ctx) -> P.DraftPlan | None:
    t = ctx.r.subject_table()
    if _predicate(ctx, t) or ctx.has(
        r"\bcase[- ]insensitiv|\bignoring\s+case\b|\bregardless\s+of\s+case\b"
    ):
        return index(ctx, force_unique=True)
    pm = re.search(r"\(\s*([a-z_]\w*(?:\s*,\s*[a-z_]\w*)+)\s*\)", ctx.low)
    if pm and all(t.column(c.strip()) for c in pm.group(1).split(",")):
        cols = [c.strip() for c in pm.group(1).split(",")]
    else:
        cols = [c for c in ctx.columns_of(t) if c not in ctx.pk(t)]
        dotted = [ctx.r.column_named(t, c) for m, c in ctx.r.dotted() if m.table is t]
        cols = [c for c in dotted if c] or cols
    if not cols:
        raise UnderstandingError(f"could not tell which column(s) of {t.name} must be unique")
    if len(cols) > 1 and not ctx.has(r"\b(?:together|combination|pair|per|each)\b|,|\band\b"):
        raise AmbiguousRequest(f"more than one column of {t.name} could be meant", cols)
    ctx.categories += ["unique"]
    for k in t.constraints:
        if k.kind in ("unique", "primary_key") and sorted(k.columns) == sorted(cols):
            raise UnderstandingError(f"{t.name} ({', '.join(cols)}) is already unique ({k.name})")
    existing_ix = None
    for ix in t.indexes:
        if ix.unique and sorted(ix.keys) == sorted(cols) and not ix.predicate:
            if not ctx.has(r"\bconstraint\b"):
                raise UnderstandingError(
                    f"{t.name} ({', '.join(cols)}) is already unique (index {ix.name})"
                )
            existing_ix = ix
    name = ctx.explicit_name() or idx_name(t.name, cols, "key")
    ctx.warnings.append(
        f"the upgrade fails if {t.name} already holds duplicate ({', '.join(cols)}) values"
    )
    ops: list = [P.AddUnique(table=t.qualified_name, name=name, columns=cols)]
    if existing_ix is not None:
        ops.insert(0, P.DropIndex(table=t.qualified_name, name=existing_ix.name))
    return ctx.plan(f"Make {t.name} ({', '.join(cols)}) unique", ops, f"add_{name}")


def _predicate(ctx: Ctx, t: Table) -> str | None:
    """A row condition written in SQL: `(deleted_at IS NULL)`, `where status = 'x'`."""
    m = re.search(
        r"\b([a-z_]\w*)\s+(is\s+(?:not\s+)?null|is\s+(?:not\s+)?(?:true|false)|=\s*'[^']*'|<>\s*'[^']*'|=\s*(?:true|false|\d+))",
        ctx.r.text,
        re.I,
    )
    if m and t.column(m.group(1).lower()):
        return f"{m.group(1).lower()} {m.group(2).upper() if 'null' in m.group(2).lower() else m.group(2)}"
    return _soft_delete_predicate(ctx, t)


def _soft_delete_predicate(ctx: Ctx, t: Table) -> str | None:
    """ "ignore soft-deleted rows", "among live rows", "not counting archived ones": the
    rows whose soft-delete column is unset. None when the request says nothing of the
    kind; a refusal when it does but `t` has no such column."""
    m = ctx.search(SOFT_DELETED)
    if not m:
        return None
    archived = re.search(r"archiv", m.group(0))
    names = (
        ("archived_at", "archived_on", "is_archived", "archived")
        if archived
        else ("deleted_at", "deleted_on", "removed_at", "discarded_at", "is_deleted", "deleted")
    )
    for name in names:
        c = t.column(name)
        if c is None:
            continue
        pred = f"NOT {name}" if c.type == "boolean" else f"{name} IS NULL"
        note = f"only rows where {pred} count ({t.name}.{name} marks the removed ones)"
        if note not in ctx.assumptions:
            ctx.assumptions.append(note)
        return pred
    raise UnderstandingError(
        f"the request limits the rule to rows that are not {'archived' if archived else 'deleted'}, "
        f"but {t.name} has no column that marks them",
        [f"columns of {t.name}: {', '.join(c.name for c in t.columns)}"],
        f"name the condition, e.g. 'where {names[0]} is null'",
    )
