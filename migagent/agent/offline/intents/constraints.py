"""Constraint intents: foreign keys, CHECK constraints (also rules in words), exclusion."""

from __future__ import annotations

import re

from migagent.agent import plan as P
from migagent.agent.errors import AmbiguousRequest, UnderstandingError
from migagent.agent.offline import rules
from migagent.agent.offline.common import (
    idx_name,
    qtable,
    read_labels,
)
from migagent.agent.offline.context import Ctx, column_of
from migagent.agent.offline.lexicon import (
    ref_action,
    singular,
)
from migagent.agent.offline.resolve import STOP
from migagent.agent.satypes import type_family
from migagent.tools.introspect.model import Column, Table


def _referenced_table(ctx: Ctx, t: Table) -> Table | None:
    """The table a foreign key of `t` points at, as the words name it."""
    at = ctx.search(r"\bforeign\s+key|\bfk\b|\breferenc|\bpoint|\blink")
    rm = re.search(
        r"(?:\b(?:references?|referencing|to|at)\b|->)\s*(?:the\s+)?([a-z_][\w.]*)",
        ctx.low[at.start() if at else 0 :],
    )
    if rm:
        cand = rm.group(1)
        head = cand.split(".")[0]
        found = ctx.r.table_named(head if "." in cand and not ctx.r._is_schema(head) else cand)
        if found and found[0] is not t:
            return found[0]
    # "add a carrier reference to parcels": the thing named before the word
    tm = ctx.search(r"\b([a-z_]\w*)\s+(?:references?|link|fk|foreign\s+key|relation(?:ship)?)\b")
    if tm and tm.group(1) not in STOP:
        found = ctx.r.table_named(tm.group(1), fuzzy=False)
        if found and found[0] is not t:
            return found[0]
    return None


def _new_reference(ctx: Ctx, t: Table, ref_t: Table) -> P.DraftPlan | None:
    """'add a carrier reference to parcels': a new column typed like the key it points at."""
    guess = f"{singular(ref_t.name)}_id"
    if not ctx.has(r"\b(?:add|introduce|create|new)\b") or len(ctx.pk(ref_t)) != 1:
        return None
    rpk = ctx.pk(ref_t)[0]
    rtype = column_of(ref_t, rpk).type
    ctx.assumptions.append(
        f"a new column {t.name}.{guess} ({rtype}, like {ref_t.name}.{rpk}) holds the reference"
    )
    return ctx.plan(
        f"Add {t.name}.{guess} referencing {ref_t.name}.{rpk}",
        [
            P.AddColumn(table=t.qualified_name, column=P.ColumnDef(name=guess, type=rtype)),
            P.AddForeignKey(
                table=t.qualified_name,
                name=f"{t.name}_{guess}_fkey",
                columns=[guess],
                ref_table=ref_t.qualified_name,
                ref_columns=[rpk],
                on_delete=on_delete(ctx.low, t, ref_t),
            ),
        ],
        f"add_{t.name}_{guess}_fkey",
    )


def foreign_key(ctx: Ctx) -> P.DraftPlan | None:
    t = ctx.subject()
    ctx.categories += ["foreign_key"]
    cols = [c for c in ctx.columns_of(t) if c not in ctx.pk(t)]
    for m, word in ctx.r.dotted():
        named = ctx.r.column_named(t, word) if m.table is t else None
        if named is not None:
            cols = [named]
            break
    ref_t = _referenced_table(ctx, t)
    if not cols and ref_t is not None:
        guess = f"{singular(ref_t.name)}_id"
        if t.column(guess):
            cols = [guess]
        elif (plan := _new_reference(ctx, t, ref_t)) is not None:
            return plan
    if not cols:
        raise UnderstandingError(f"could not tell which column of {t.name} gets the foreign key")
    cols = [
        c for c in cols if ref_t is None or not (ref_t.column(c) and c in ctx.pk(ref_t))
    ] or cols
    if len(cols) > 1:
        cols = [c for c in cols if c.endswith("_id")] or cols
        if len(cols) > 1:
            raise AmbiguousRequest(
                f"more than one column of {t.name} could get the foreign key", cols
            )
    col = cols[0]
    if ref_t is None and col.endswith("_id"):
        found = ctx.r.table_named(col[:-3])
        ref_t = found[0] if found else None
    if ref_t is None:
        raise UnderstandingError(f"could not tell which table {t.name}.{col} references")
    ref_cols = ctx.pk(ref_t)
    if len(ref_cols) != 1:
        raise UnderstandingError(f"{ref_t.name} has no single-column primary key to reference")
    for k in t.constraints:
        if k.kind == "foreign_key" and k.columns == [col] and k.ref_table == ref_t.qualified_name:
            raise UnderstandingError(f"{t.name}.{col} already references {ref_t.name} ({k.name})")
    name = ctx.explicit_name() or f"{t.name}_{col}_fkey"
    ops: list[P.Operation] = [
        P.AddForeignKey(
            table=t.qualified_name,
            name=name,
            columns=[col],
            ref_table=ref_t.qualified_name,
            ref_columns=ref_cols,
            on_delete=on_delete(ctx.low, t, ref_t),
        )
    ]
    has_index = any(ix.keys[:1] == [col] for ix in t.indexes)
    if not has_index and (
        ctx.facts.large(t.qualified_name)
        or ctx.has(r"\b(?:and|also|plus)\s+(?:an?\s+)?index\b|\bindex\s+it\b")
    ):
        if not ctx.has(r"\bindex\s+it\b|\bindex\b"):
            ctx.assumptions.append(
                f"an index on {t.name}.{col}: deletes and updates in {ref_t.name} look up "
                f"referencing rows by it, and {t.name} is large"
            )
        ops.append(
            P.CreateIndex(table=t.qualified_name, name=idx_name(t.name, [col], "idx"), keys=[col])
        )
    ctype = column_of(t, col).type
    rtype = column_of(ref_t, ref_cols[0]).type
    if type_family(ctype) != type_family(rtype):
        raise UnderstandingError(
            f"{t.name}.{col} is {ctype} but {ref_t.name}.{ref_cols[0]} is {rtype}"
        )
    return ctx.plan(
        f"Add foreign key {t.name}.{col} -> {ref_t.name}.{ref_cols[0]}", ops, f"add_{name}"
    )


_DELETED = r"\b(?:delet|remov|drop|purg|eras)\w*|\bgo(?:es)?\s+away\b|\bdisappear\w*"
_GONE = (
    r"\b(?:go|goes|gone|went|disappear\w*|vanish\w*)\b|\b(?:delet|remov|purg|eras|drop)\w*"
    r"|\bwith\s+(?:it|them)\b|\balong\b"
)
_KEPT = r"\b(?:kept|keep|keeps|stay|stays|remain|remains|survive\w*|lose|loses|unlink\w*|orphan\w*|clear\w*|null)\b"
_BLOCKED = (
    r"\b(?:block\w*|prevent\w*|refus\w*|forbid\w*|fail\w*)\b|\bcan(?:not|'t|\s+not)\b"
    r"|\bnot\s+(?:be\s+)?(?:allowed|possible)\b|\bmust\s+not\b|\bstill\s+ha(?:s|ve)\b"
)


def on_delete(low: str, child: Table, parent: Table | None) -> str | None:
    """The ON DELETE a request states in words about `parent`'s rows going away
    ("when a course is deleted its enrollments go too" -> CASCADE, "books are kept, they
    just lose the author" -> SET NULL, "an author who still has books cannot be removed"
    -> RESTRICT); otherwise the lexicon's explicit forms ("on delete cascade")."""
    explicit = ref_action(low)
    if parent is None or re.search(r"\bon\s+delete\b", low):
        return ref_action(low)
    kids = _nouns(child.name)
    for clause in re.split(r"[;.]\s*|,\s*(?:and\s+)?(?:so\s+)?|\bso\s+that\b", low):
        if not re.search(_DELETED, clause) or not _names(clause, _nouns(parent.name)):
            continue
        rest = clause
        if not _names(rest, kids) and not re.search(r"\b(?:they|them|their|its)\b", rest):
            continue
        if re.search(_BLOCKED, rest):
            return "RESTRICT"
        if re.search(_KEPT, rest):
            return "SET NULL"
        if re.search(_GONE, _after_parent(rest, parent)):
            return "CASCADE"
    return explicit


def _nouns(name: str) -> list[str]:
    words = name.lower().replace("_", " ")
    return list(dict.fromkeys([words, singular(words), name.lower(), singular(name.lower())]))


def _names(text: str, nouns: list[str]) -> bool:
    return any(re.search(rf"\b{re.escape(n)}\b", text) for n in nouns if n)


def _after_parent(clause: str, parent: Table) -> str:
    """The clause after the words saying the parent row is deleted (what then happens)."""
    m = re.search(_DELETED, clause)
    return clause[m.end() :] if m else clause


def rule_check(ctx: Ctx) -> P.DraftPlan | None:
    """A rule in words ("discount can never be more than the fee", "has to end after it
    starts", "must be positive") as a CHECK constraint; None when no comparison over the
    subject table's columns is stated."""
    if ctx.has(r"\bcheck\s*\(|\b(?:move|reorder|position|place|put|order\s+of)\b"):
        return None  # an explicit check is the check intent's; "put a after b" is layout
    try:
        t = ctx.subject()
    except UnderstandingError:
        return None
    if t is None:
        return None
    expr = rules.read_rule(ctx.low, t, ctx.r) or compare_by_stems(ctx.low, t)
    if expr is None:
        return None
    one = re.fullmatch(r"([a-z_]\w*) (?:>=|<=) -?[\d.]+", expr)
    both = _bounds_in_words(ctx, one.group(1)) if one else None
    if both and " AND " in both:
        expr = both  # "at least 30 and at most 20": both bounds, not the first
    ctx.categories += ["check"]
    cols = [w for w in re.findall(r"[a-z_]\w*", expr) if t.column(w)]
    name = ctx.explicit_name() or idx_name(t.name, cols, "check")
    if any(k.name == name for k in t.constraints):
        name = idx_name(t.name, [*cols, "1"], "check")
    for k in t.constraints:
        if k.kind == "check" and re.sub(r"[()\s]", "", k.definition).endswith(
            re.sub(r"[()\s]", "", expr)
        ):
            raise UnderstandingError(f"{t.name} already has the check {k.name} ({k.definition})")
    ctx.assumptions.append(f"the rule reads as CHECK ({expr})")
    return ctx.plan(
        f"Add check {expr} on {t.name}",
        [P.AddCheck(table=t.qualified_name, name=name, expression=expr)],
        f"add_{name}",
    )


def compare_by_stems(low: str, t: Table) -> str | None:
    """A comparison between two columns named by their leading words ("net pay can never be
    more than its gross pay" -> net_cents <= gross_cents, "the delivery time comes after its
    dispatch time" -> delivered_at > dispatched_at): each side's nearest word that starts
    exactly one comparable column of `t`. Columns the request spells out (net_cents) are
    the only candidates when there are such."""
    spelled = [c for c in t.columns if re.search(rf"\b{re.escape(c.name.lower())}\b", low)]
    pool = spelled if len(spelled) >= 2 else t.columns
    keys = {k.columns[0] for k in t.constraints if k.kind in ("primary_key", "foreign_key")}
    pool = [c for c in pool if c.name not in keys and _family(c.type) is not None]
    for pattern, op in rules._COMPARATORS:
        for m in re.finditer(rf"(?<![\w<>=])(?:{pattern})(?![\w<>=])", low):
            start = max(low.rfind(x, 0, m.start()) for x in (".", ";", ":"))
            end = min(
                [i for x in (".", ";", ":", "(") if (i := low.find(x, m.end())) >= 0] or [len(low)]
            )
            left = _stem_column(low[start + 1 : m.start()].split()[::-1], pool)
            right = _stem_column(low[m.end() : end].split(), pool)
            if left is None or right is None or left is right:
                continue
            if _family(left.type) != _family(right.type):
                continue
            neg = rules._NEGATE[op] if rules._negated(low[start + 1 : m.start()]) else op
            return f"{left.name} {neg} {right.name}"
    return None


def _family(sql_type: str) -> str | None:
    fam = type_family(sql_type)
    return {"int": "n", "num": "n", "timestamp": "t", "date": "t"}.get(fam)


def _stem_column(words: list[str], pool: list[Column]) -> Column | None:
    """The column the first word of `words` (that starts any) starts, when exactly one."""
    for w in words:
        w = re.sub(r"'s$|[^\w]", "", w)
        if len(w) < 3 or w in STOP:
            continue
        hits = [c for c in pool if _stem_match(w, c.name.lower().split("_")[0])]
        if len(hits) == 1:
            return hits[0]
        if hits:
            return None
    return None


def _stem_match(word: str, head: str) -> bool:
    if word == head:
        return True
    n = next(
        (i for i, (a, b) in enumerate(zip(word, head, strict=False)) if a != b),
        min(len(word), len(head)),
    )
    return n >= 4 and n >= min(len(word), len(head)) - 2


def check(ctx: Ctx) -> P.DraftPlan | None:
    t = ctx.subject()
    explicit = re.search(r"\bcheck\s*\((.+)\)", ctx.text, re.I | re.S)
    col = None
    if explicit:
        expr = explicit.group(1).strip()
        cols = [c for c in re.findall(r"[a-z_]\w*", expr.lower()) if t.column(c)]
        col = cols[0] if cols else "check"
    else:
        col = ctx.one_column(t, "constrain")
        ctype = column_of(t, col).type
        if ctx.has(
            r"\bnon-?negative\b|\bnot\s+(?:be\s+)?negative\b|\bnever\s+(?:be\s+)?negative\b|\bcan(?:not|'t)\s+be\s+negative\b|>=\s*0\b|\bzero\s+or\s+(?:more|positive)\b|\bat\s+least\s+0\b"
        ):
            expr = f"{col} >= 0"
        elif ctx.has(r"\bpositive\b|>\s*0\b|\bgreater\s+than\s+(?:0|zero)\b"):
            expr = f"{col} > 0"
        elif m := ctx.search(r"\bbetween\s+(-?[\d.]+)\s+and\s+(-?[\d.]+)"):
            expr = f"{col} >= {m.group(1)} AND {col} <= {m.group(2)}"
        elif bounds := _bounds_in_words(ctx, col):
            expr = bounds
        elif m := ctx.search(r"\b(?:after|later\s+than|greater\s+than|>)\s+(?:the\s+)?([a-z_]\w*)"):
            other = ctx.r.column_named(t, m.group(1))
            if other is None:
                raise UnderstandingError(f"{t.name} has no column {m.group(1)} to compare with")
            expr = f"{col} > {other}"
        elif labels := re.findall(r"'([^']*)'", ctx.text) or read_labels(ctx.text):
            expr = f"{col} IN (" + ", ".join("'" + x.replace("'", "''") + "'" for x in labels) + ")"
        elif ctx.has(r"\bnot\s+(?:be\s+)?(?:empty|blank)\b"):
            expr = f"{col} <> ''" if type_family(ctype) == "text" else None
        else:
            expr = None
        if expr is None:
            raise UnderstandingError(
                f"could not read the condition for the check on {t.name}.{col}",
                ["write it as 'check (price_cents >= 0)'"],
            )
    ctx.categories += ["check"]
    name = ctx.explicit_name() or f"{t.name}_{col}_check"
    if any(k.name == name for k in t.constraints):
        name = f"{t.name}_{col}_check1"
    return ctx.plan(
        f"Add check {expr} on {t.name}",
        [P.AddCheck(table=t.qualified_name, name=name, expression=expr)],
        f"add_{name}",
    )


def _bounds_in_words(ctx: Ctx, col: str) -> str | None:
    """'at least 1', 'at most 10', or both ("at least 30 and at most 20" keeps both, so a
    contradiction is seen, not half of it drafted)."""
    lo = ctx.search(r"\b(?:at\s+least|>=|greater\s+than\s+or\s+equal\s+to)\s+(-?[\d.]+)")
    hi = ctx.search(
        r"\b(?:at\s+most|<=|less\s+than\s+or\s+equal\s+to|no\s+more\s+than)\s+(-?[\d.]+)"
    )
    parts = [f"{col} >= {lo.group(1)}"] if lo else []
    parts += [f"{col} <= {hi.group(1)}"] if hi else []
    return " AND ".join(parts) or None


def exclusion(ctx: Ctx) -> P.DraftPlan | None:
    t = ctx.subject()

    def timed(x: Table) -> bool:
        return (
            any(c.type.endswith("range") for c in x.columns)
            or sum(type_family(c.type) in ("timestamp", "date") for c in x.columns) >= 2
        )

    if not timed(t):
        cands = [m.table for m in ctx.r.table_mentions() if timed(m.table)]
        cands = list(dict.fromkeys(cands)) or [x for x in ctx.r.tables if timed(x)]
        if len(cands) == 1:
            t = cands[0]
    ranges = [c for c in t.columns if c.type.endswith("range")]
    cols = ctx.columns_of(t)
    if ranges:
        rng = (
            ranges[0].name
            if len(ranges) == 1
            else next((c for c in cols if column_of(t, c).type.endswith("range")), None)
        )
        if rng is None:
            raise AmbiguousRequest(
                f"more than one range column of {t.name}", [c.name for c in ranges]
            )
        range_expr = rng
    else:
        ts = [c.name for c in t.columns if type_family(c.type) in ("timestamp", "date")]
        start = next((c for c in ts if re.search(r"start|from|begin", c)), None)
        end = next((c for c in ts if re.search(r"end|until|to$|finish", c)), None)
        if not (start and end):
            raise UnderstandingError(f"found no time range in {t.name} to keep from overlapping")
        fn = (
            "tstzrange"
            if "with time zone" in column_of(t, start).type
            else "tsrange"
            if "timestamp" in column_of(t, start).type
            else "daterange"
        )
        range_expr = f"{fn}({start}, {end})"
    # the grouping column: "the same room" -> room_id
    group = None
    sm = re.search(r"\bsame\s+([a-z_]\w*)", ctx.low)
    if sm:
        for cand in (f"{sm.group(1)}_id", sm.group(1), f"{singular(sm.group(1))}_id"):
            if t.column(cand):
                group = cand
                break
    if group is None:
        fks = [
            k.columns[0] for k in t.constraints if k.kind == "foreign_key" and len(k.columns) == 1
        ]
        named = [c for c in cols if c in fks]
        if len(named) == 1 or len(fks) == 1:
            group = (named or fks)[0]
    if group is None:
        raise UnderstandingError(
            f"could not tell which column of {t.name} groups the non-overlapping rows"
        )
    ctx.categories += ["exclusion_constraint", "extension", "constraint"]
    name = ctx.explicit_name() or f"{t.name}_no_overlap"
    ops: list = ctx.extension_ops("btree_gist")
    ops.append(
        P.RawSQL(
            upgrade=f"ALTER TABLE {qtable(t)} ADD CONSTRAINT {name} EXCLUDE USING gist ({group} WITH =, {range_expr} WITH &&)",
            downgrade=f"ALTER TABLE {qtable(t)} DROP CONSTRAINT {name}",
            table=t.qualified_name,
        )
    )
    ctx.warnings.append(
        f"the upgrade fails if {t.name} already holds overlapping rows; building the constraint "
        f"locks {t.name} (ACCESS EXCLUSIVE) while its index is built"
    )
    return ctx.plan(f"Prevent overlapping {t.name} per {group}", ops, f"{t.name}_no_overlap")
