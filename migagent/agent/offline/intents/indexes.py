"""Index intents: create an index (partial, expression, method), unique, drop an index in words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

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
from migagent.tools.introspect.model import Index, Table
from migagent.tools.sqlparse import parse_sql


def drop_index_in_words(ctx: Ctx) -> P.DraftPlan | None:
    """An index to drop described by words, not its name: "drop stale audit index",
    "drop the redundant tracking_ref index on parcels". Every content word must be in
    the index's name, keys or table; "redundant"/"duplicate" keeps the indexes another
    index of the same table already covers (same leading keys). One index, or a
    refusal naming the candidates."""
    m = ctx.search(
        r"\b(?:drop|remove|delete|get\s+rid\s+of)s?\b(.{0,80}?)\b(?:index|indexes|idx)\b(?:\s+(?:on|of|for|in|from)\s+([^,;.]{0,60}))?"
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
        "btree", "existing", "separate", "single", "column", "simple", "plain", "its", "and",
        "columns", "composite", "table",
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

        def covered(t: Table, ix: Index) -> bool:
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
    # a query pasted in the request: keys (and constant conditions) read from its SQL
    shape = query_shape(ctx)
    t: Table | None = None
    keys: list[str] = []
    where = None
    if shape is not None:
        t = shape.table
        partial = ctx.has(r"\bpartial\b|\bonly\b|\bjust\s+(?:those|these|them|the)\b|%")
        keys = shape.keys
        # an IS [NOT] NULL / IS TRUE test is a row filter, not a useful key (every row the
        # query reads has the same value there): the partial predicate, as soft deletes are
        tests = [
            c
            for c in shape.consts
            if re.search(r"\bIS\s+(?:NOT\s+)?(?:NULL|TRUE|FALSE)\b", c, re.I)
        ]
        others = [c for c in shape.consts if c not in tests]
        if others and partial:
            tests, others = [*tests, *others], []
        where = " AND ".join(tests) or None
        keys = [*keys, *(k for k in _const_keys(tuple(others)) if t.column(k))]
        listed = _listed_columns(ctx, t)
        if listed and {key_base(k) for k in keys} <= set(listed):
            # "an index on t(a, b)" fixes the order; the query gives the directions
            by_base = {key_base(k): k for k in keys}
            keys = [by_base.get(c, c) for c in listed]
        elif listed and not keys:
            keys = listed
    if t is None:
        t = ctx.subject()
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
    expr_keys: list[str] = []
    ci = ctx.has(
        r"\bcase[- ]insensitiv|\bignoring\s+case\b|\bregardless\s+of\s+case\b|\bany\s+case\b"
    )
    if shape is not None:
        if any("(" in key_base(k) for k in keys):
            expr_keys = list(keys)
    else:
        keys = keys or _listed_columns(ctx, t)
        if force_unique and not keys:
            keys = _unique_columns(ctx, t)
        em = re.search(r"\b(lower|upper|date|coalesce|md5|left|date_trunc)\s*\(([^()]*)\)", ctx.low)
        if em:
            inner = em.group(2)
            cols = [c for c in re.findall(r"[a-z_]\w*", inner) if t.column(c)]
            if cols:
                expr_keys = [f"{em.group(1)}({inner.strip()})"]
        if not keys and not expr_keys:
            dotted = [ctx.r.column_named(t, c) for m, c in ctx.r.dotted() if m.table is t]
            keys = [c for c in dotted if c] or ctx.columns_of(t)
        if ci and not expr_keys:
            expr_keys = [f"lower({k})" for k in keys if _family(t, k) == "text"]
            if expr_keys:
                keys = []
    if not keys and not expr_keys:
        raise UnderstandingError(
            f"could not tell which column(s) of {t.name} to index",
            [f"columns of {t.name}: {', '.join(c.name for c in t.columns)}"],
        )
    all_keys = expr_keys or keys
    if expr_keys:
        ctx.categories += ["expression_index"]
    # method
    method = "btree"
    opclasses: dict[str, str] = {}
    for name in ("brin", "gin", "gist", "hash", "spgist"):
        if ctx.has(rf"\b{name}\b"):
            method = name
    key_types = {k: c.type for k in keys if (c := t.column(k)) is not None}
    if (
        method == "btree"
        and any(tp in ("jsonb", "tsvector") or tp.endswith("[]") for tp in key_types.values())
        and not ctx.has(r"\bbtree\b")
    ):
        method = "gin"
    if method == "gin" and _containment_only(ctx):
        opclasses = {k: "jsonb_path_ops" for k, tp in key_types.items() if tp == "jsonb"}
    if method != "btree":
        ctx.categories += [method]
    include = _included(ctx, t, shape, keys)
    if include:
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
        if wm and shape is None:
            where = wm.group(1).strip().rstrip(".")
            if not any(t.column(c) for c in re.findall(r"[a-z_]\w*", where.lower())):
                raise UnderstandingError(
                    f"the index predicate {where!r} names no column of {t.name}"
                )
        elif (soft := _soft_delete_predicate(ctx, t)) is not None:
            where = soft
        elif (meant := meaning_predicate(ctx, t, keys)) is not None:
            where = meant
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
    t = ctx.subject()
    if _predicate(ctx, t) or ctx.has(
        r"\bcase[- ]insensitiv|\bignoring\s+case\b|\bregardless\s+of\s+case\b"
    ):
        return index(ctx, force_unique=True)
    cols = _listed_columns(ctx, t) or _unique_columns(ctx, t)
    if not cols:
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
    m = ctx.search(LIVE_ONLY)
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


# --- a query quoted in the request -------------------------------------------------

_COVERING = r"\bindex[- ]only\b|\bcovering\b|\bheap\s+(?:fetch|lookup|access)|\bwithout\s+(?:touching|visiting|reading)\s+the\s+(?:table|heap)\b"
_SQL_START = re.compile(r"\b(select|where)\b", re.I)
_SQL_END = re.compile(r"`|;|\.(?:\s|$)|\n")


@dataclass(frozen=True)
class QueryShape:
    """What an index for one quoted query needs: equality keys first, then the sort,
    then range keys; conditions on constants (partial-index candidates) apart."""

    table: Table
    eq: tuple[str, ...]
    order: tuple[str, ...]
    ranges: tuple[str, ...]
    consts: tuple[str, ...]
    reads: tuple[str, ...]  # plain columns of the select list

    @property
    def keys(self) -> list[str]:
        out: list[str] = []
        for k in (*self.eq, *self.order, *self.ranges):
            if key_base(k) not in [key_base(o) for o in out]:
                out.append(k)
        return out


def _tree(node: Any) -> Any:
    """pglast's node as plain dicts and tuples (`@` names the node type)."""
    return node(depth=None, skip_none=True)


def _walk(d: Any):
    if isinstance(d, dict):
        yield d
        for v in d.values():
            yield from _walk(v)
    elif isinstance(d, (list, tuple)):
        for v in d:
            yield from _walk(v)


def _column_refs(d: Any) -> list[str]:
    out: list[str] = []
    for n in _walk(d):
        if n.get("@") == "ColumnRef":
            fields = [f.get("sval") for f in n.get("fields", ()) if isinstance(f, dict)]
            if fields and isinstance(fields[-1], str):
                out.append(fields[-1])
    return out


def _has_param(d: Any) -> bool:
    return any(n.get("@") == "ParamRef" for n in _walk(d))


def _numbered(fragment: str) -> str:
    """`?`, `:name`, `%s` as `$n`, the one placeholder form the parser reads."""
    n = iter(range(50, 1000))
    return PLACEHOLDER.sub(
        lambda m: m.group(0) if m.group(0).startswith("$") else f"${next(n)}", fragment
    )


def _parse_select(fragment: str) -> Any | None:
    sql = fragment if fragment.lower().startswith("select") else f"SELECT * FROM _q {fragment}"
    try:
        stmts = parse_sql(_numbered(sql), what="the quoted query")
    except Exception:  # not SQL (yet): the caller trims a word and retries
        return None
    if len(stmts) != 1 or type(stmts[0].stmt).__name__ != "SelectStmt":
        return None
    return stmts[0].stmt


def query_shape(ctx: Ctx) -> QueryShape | None:
    """The index a query pasted in the request needs (`WHERE a = $1 ORDER BY b DESC`,
    `SELECT x FROM t WHERE upper(c) = upper($1)`). The fragment runs from SELECT/WHERE to
    the end of the sentence, shortened word by word until it parses and every column it
    names is a column of the table. Parameters ($1, ?, :name) make keys, never predicates."""
    for start in _SQL_START.finditer(ctx.text):
        end = _SQL_END.search(ctx.text, start.end())
        words = ctx.text[start.start() : end.start() if end else len(ctx.text)].split()
        while len(words) > 1:
            stmt = _parse_select(" ".join(words).rstrip(",:!?"))
            shape = _shape_of(ctx, stmt) if stmt is not None else None
            if shape is not None:
                return shape
            words.pop()
    return None


def _shape_of(ctx: Ctx, stmt: Any) -> QueryShape | None:
    from pglast.stream import RawStream

    tree = _tree(stmt)
    rels = [n.get("relname") for n in _walk(tree.get("fromClause", ())) if n.get("@") == "RangeVar"]
    if rels and rels != ["_q"]:
        found = ctx.r.table_named(str(rels[0]))
        if not found:
            return None
        t = found[0]
    else:
        refs = _column_refs(tree.get("whereClause", {})) + _column_refs(tree.get("sortClause", ()))
        t = ctx.r.subject_table(prefer_columns=refs)
        if t is None:
            return None
    where = stmt.whereClause
    refs = _column_refs(_tree(where)) if where is not None else []
    if stmt.sortClause:
        refs += _column_refs([_tree(s) for s in stmt.sortClause])
    if not refs or any(t.column(c) is None for c in refs):
        return None
    is_query = rels != ["_q"] or stmt.sortClause or (where is not None and _has_param(_tree(where)))
    if not is_query:
        return None  # a plain `where status = 'x'`: the predicate path reads it
    conjuncts = []
    if where is not None:
        w = _tree(where)
        conjuncts = (
            list(where.args)
            if w.get("@") == "BoolExpr" and w.get("boolop", {}).get("value") == 0
            else [where]
        )
    eq: list[str] = []
    ranges: list[str] = []
    consts: list[str] = []
    for c in conjuncts:
        d = _tree(c)
        if d.get("@") == "BoolExpr":
            return None  # OR / NOT: no single btree serves it
        if not _has_param(d):
            consts.append(RawStream()(c))
            continue
        if d.get("@") != "A_Expr":
            return None
        side = c.lexpr if not _has_param(_tree(c.lexpr)) else c.rexpr
        if _has_param(_tree(side)) or not _column_refs(_tree(side)):
            return None
        key = RawStream()(side)
        op = "".join(n.get("sval", "") for n in _walk(d.get("name", ())))
        kind = d.get("kind", {}).get("name", "")
        (eq if op == "=" or kind == "AEXPR_IN" else ranges).append(key)
    pairs: list[tuple[str, str]] = []
    for s in stmt.sortClause or ():
        sd = _tree(s)
        desc = sd.get("sortby_dir", {}).get("name") == "SORTBY_DESC"
        nulls = sd.get("sortby_nulls", {}).get("name", "")
        mods = " DESC" if desc else ""
        if nulls == "SORTBY_NULLS_FIRST" and not desc:
            mods += " NULLS FIRST"
        elif nulls == "SORTBY_NULLS_LAST" and desc:
            mods += " NULLS LAST"
        pairs.append((RawStream()(s.node), mods))
    order = _plain_directions(pairs)
    reads = tuple(
        ref
        for tl in stmt.targetList or ()
        if (v := _tree(tl).get("val", {})).get("@") == "ColumnRef"
        for ref in _column_refs(v)
        if t.column(ref) is not None
    )
    return QueryShape(t, tuple(eq), tuple(order), tuple(ranges), tuple(consts), reads)


def _plain_directions(pairs: list[tuple[str, str]]) -> list[str]:
    """A btree scans both ways: when every sort key runs the same way with its default
    NULLS placement, plain ascending keys serve the sort; only mixed directions or moved
    NULLs need them written into the index."""
    if len({mods for _, mods in pairs}) <= 1 and all(m in ("", " DESC") for _, m in pairs):
        return [expr for expr, _ in pairs]
    return [expr + mods for expr, mods in pairs]


def key_base(key: str) -> str:
    """The expression of an index key without its direction: `started_at DESC` -> `started_at`."""
    return re.sub(r"(?:\s+(?:ASC|DESC|NULLS\s+(?:FIRST|LAST)))+\s*$", "", key, flags=re.I)


def _const_keys(consts: tuple[str, ...]) -> list[str]:
    """The column each constant condition tests (`state = 'open'` -> state)."""
    out: list[str] = []
    for c in consts:
        m = re.match(r"\(?\s*([a-z_]\w*)\b", c, re.I)
        if m:
            out.append(m.group(1).lower())
    return out


# --- small readers shared by the index intents -------------------------------------


def _family(t: Table, column: str) -> str | None:
    c = t.column(column)
    return type_family(c.type) if c is not None else None


def _listed_columns(ctx: Ctx, t: Table) -> list[str]:
    """An explicit column list: `t(a, b)`, `(a, b)`."""
    pm = re.search(r"\(\s*([a-z_]\w*(?:\s*,\s*[a-z_]\w*)+)\s*\)", ctx.low)
    if pm and all(t.column(c.strip()) for c in pm.group(1).split(",")):
        return [c.strip() for c in pm.group(1).split(",")]
    return []


def _containment_only(ctx: Ctx) -> bool:
    """jsonb_path_ops (smaller, faster, `@>` only) when the request names containment as
    the index's purpose and no key-existence / jsonpath operator that it cannot serve. A
    bare `@>` example beside "needs a GIN index" keeps the default jsonb_ops."""
    if ctx.has(r"jsonb_path_ops|path[_ ]ops"):
        return True
    purpose = ctx.has(
        r"\bcontainment\b|@>\s*(?:only|lookups?|quer(?:y|ies)|filters?|checks?)\b|\bfor\s+(?:the\s+)?@>"
    )
    other = ctx.has(
        r"\bkey[- ]?exist|\bhas[_ ]?keys?\b|\bexistence\b|\?\||\?&|\(\?\)|\s\?\s|\bjsonb_ops\b|@\?|@@|\bjsonpath\b"
    )
    return purpose and not other


def _included(ctx: Ctx, t: Table, shape: QueryShape | None, keys: list[str]) -> list[str]:
    """INCLUDE columns of a covering index: the ones listed after "include(s)"; or, when an
    index-only scan is asked for, the columns the query reads beyond the keys (its select
    list, else the columns the request names that are not keys)."""
    im = re.search(
        r"\binclud(?:es|ing|e)\b\s*\(?\s*([a-z_]\w*(?:\s*(?:,|\band\b)\s*[a-z_]\w*)*)", ctx.low
    )
    listed = (
        [c.strip() for c in re.split(r",|\band\b", im.group(1)) if t.column(c.strip())]
        if im
        else []
    )
    if listed or not (im or ctx.has(_COVERING)):
        return listed
    bases = {key_base(k) for k in keys}
    in_keys = {c for k in keys for c in re.findall(r"[a-z_]\w*", k) if t.column(c)}
    reads = list(shape.reads) if shape is not None and shape.reads else ctx.columns_of(t)
    return [c for c in dict.fromkeys(reads) if c not in bases and c not in in_keys]


def _unique_columns(ctx: Ctx, t: Table) -> list[str]:
    """The column(s) a uniqueness rule in words is about: "no two X may share a Y" -> Y,
    "Y must be unique", "unique Y", "reuse the same Y". [] when no such phrase names a
    column of `t` (the caller falls back to every column mentioned)."""
    spans = [
        r"\bno\s+two\b.{0,60}?\b(?:share|have|use|reuse|hold|take|claim|get)s?\s+(?:the\s+same\s+|a\s+|an\s+)?([^,;.]+)",
        r"\b(?:share|have|use|reuse|hold|take|claim)s?\s+the\s+same\s+([^,;.]+)",
        r"(?:^|[,;.]\s*)([^,;.]{1,60}?)\s+(?:must|should|shall|has\s+to|have\s+to|needs?\s+to)\s+(?:be|stay|remain)\s+(?:globally\s+)?unique\b",
        r"\bunique\s+([^,;.]+)",
    ]
    for pattern in spans:
        for m in re.finditer(pattern, ctx.low):
            cols = [
                c.column
                for c in ctx.r.column_mentions(t, start=m.start(1), end=m.end(1))
                if c.column is not None and not re.search(r"(?:deleted|archived)", c.column)
            ]
            if cols:
                return list(dict.fromkeys(cols))
    return []


# the rows a rule or index is limited to when soft-deleted ones "don't count"
LIVE_ONLY = (
    SOFT_DELETED
    + r"|\b(?:soft[- ]?)?(?:deleted|archived|removed)\s+(?:[a-z]+\s+){0,2}(?:\([^)]*\)\s*)?"
    r"(?:don't|do\s+not|doesn't|does\s+not|shouldn't|should\s+not|won't|never)\s+count\b"
    r"|\blive\s+(?:rows|records|ones|entries)\b"
)


# --- a partial index by business meaning -------------------------------------------

_PENDING = r"\b(?:still|yet|not|never|awaiting|waiting|pending|outstanding|without)\b|n't\b"
_NEGATED = r"\b(?:not|never|no\s+longer)\s+(?:yet\s+)?(?:been\s+)?$|n't\s+(?:yet\s+)?(?:been\s+)?$"


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word.rstrip("e") or word


def column_labels(ctx: Ctx, t: Table, column: str) -> list[str]:
    """The values a status column can hold: its enum's labels, or a CHECK's IN list."""
    c = t.column(column)
    if c is None:
        return []
    for e in ctx.snap.enums.values():
        if c.type in (e.name, f"{e.schema_name}.{e.name}"):
            return list(e.labels)
    for k in t.constraints:
        if (
            k.kind == "check"
            and k.columns == [column]
            and re.search(r"= ANY|\bIN\s*\(", k.definition)
        ):
            return re.findall(r"'((?:[^']|'')*)'", k.definition)
    return []


def meaning_predicate(ctx: Ctx, t: Table, keys: list[str]) -> str | None:
    """A partial index's rows described by what they mean ("only the orders still waiting
    for payment", "for parcels awaiting pickup"): the status label whose words the phrase
    holds (`status = 'awaiting_pickup'`, `<>` when negated), or a NULL test on the
    timestamp whose verb it names ("not dispatched yet" -> dispatched_at IS NULL). None
    when nothing in the schema fits; a refusal when two readings fit equally well."""
    m = ctx.search(r"\b(?:only|just)\b([^,;.]*)") or (
        ctx.search(r"\bpartial\b(.*)") if ctx.has(r"\bpartial\b") else None
    )
    if m is None:
        return None
    phrase = m.group(1)
    nouns = "|".join(re.escape(v) for v in {t.name, singular(t.name), t.name.replace("_", " ")})
    if not ctx.has(r"\bpartial\b") and not re.match(
        rf"\s*(?:(?:for|on|to|index|include|cover)\s+)?(?:the\s+|those\s+|these\s+)?"
        rf"(?:rows|ones|records|entries|those|these|when|where|if|while|{nouns})\b",
        phrase,
    ):
        return None  # "only reads x", "containment queries only": columns or uses, not rows
    tokens = [(w.start(), _stem(w.group(0))) for w in re.finditer(r"[a-z]+", phrase)]
    stems = {s for _, s in tokens}
    pending = re.search(_PENDING, phrase) is not None
    readings: list[tuple[int, str, str]] = []  # (words matched, predicate, what it reads as)
    for c in t.columns:
        if keys == [c.name]:
            continue  # the key itself
        for label in column_labels(ctx, t, c.name):
            words = [_stem(w) for w in re.findall(r"[a-z]+", label.lower()) if w not in STOP]
            if not words or not all(w in stems for w in words):
                continue
            first = next(pos for pos, s in tokens if s == words[0])
            negated = re.search(_NEGATED, phrase[:first]) is not None
            op = "<>" if negated else "="
            readings.append((len(words), f"{c.name} {op} '{label}'", f"{c.name} {op} '{label}'"))
        family = type_family(c.type)
        if family in ("timestamp", "date", "datetime") or re.search(r"_(?:at|on)$", c.name):
            verbs = [
                _stem(w)
                for w in c.name.split("_")
                if w not in ("at", "on", "date", "time", "last", "first", "latest")
            ]
            if verbs and any(v in stems for v in verbs) and c.nullable:
                test = "IS NULL" if pending else "IS NOT NULL"
                readings.append((1, f"{c.name} {test}", f"{c.name} {test}"))
    if not readings:
        return None
    best = max(n for n, _, _ in readings)
    top = list(dict.fromkeys(p for n, p, _ in readings if n == best))
    if len(top) > 1:
        raise AmbiguousRequest(
            f"the rows meant by {phrase.strip()!r} could be read more than one way",
            top,
            f"write the condition, e.g. 'where {top[0]}'",
        )
    ctx.assumptions.append(f"only rows where {top[0]} are indexed ({phrase.strip()!r})")
    return top[0]
