"""Type intents: change a column's type, convert timestamps between time zones."""

from __future__ import annotations

import re

from migagent.agent import plan as P
from migagent.agent.errors import AmbiguousRequest, UnderstandingError
from migagent.agent.offline.context import Ctx, column_of
from migagent.agent.offline.lexicon import (
    find_type,
    find_types,
    singular,
    snake,
)
from migagent.agent.satypes import normalize_type, type_family
from migagent.tools.introspect.model import Column, Table


def timezone(ctx: Ctx) -> P.DraftPlan | None:
    t = ctx.subject()
    cols = [c for c in ctx.columns_of(t) if type_family(column_of(t, c).type) == "timestamp"]
    for m_, word in ctx.r.dotted():
        named = ctx.r.column_named(t, word) if m_.table is t else None
        if named is not None:
            cols = [named]
    if not cols:
        return None
    zones = re.findall(r"\b([A-Z][a-z]+/[A-Z][A-Za-z_]+(?:/[A-Z][A-Za-z_]+)?)\b", ctx.request)
    src_m = re.search(
        r"\b(?:from|in|are|were|as)\s+(utc|[A-Z][a-z]+/[A-Za-z_/]+)\b", ctx.request, re.I
    )
    dst_m = re.search(r"\bto\s+(utc|[A-Z][a-z]+/[A-Za-z_/]+)\b", ctx.request, re.I)
    tz_from = src_m.group(1) if src_m else "UTC"
    tz_from = "UTC" if tz_from.lower() == "utc" else tz_from
    ctx.categories += ["data_migration", "timezone"]
    ops: list[P.Operation] = []
    for c in cols:
        col = column_of(t, c)
        wants_tz = ctx.has(r"\btimestamptz\b|\bwith\s+time\s*zone\b|\btz[- ]aware\b")
        if col.type.startswith("timestamp") and "without" in col.type and (wants_tz or not dst_m):
            src = tz_from if src_m else "UTC"
            if not src_m:
                ctx.assumptions.append(f"existing {t.name}.{c} values are in UTC")
            new_type = "timestamp with time zone"
            ops.append(
                P.AlterColumnType(
                    table=t.qualified_name,
                    column=c,
                    new_type=new_type,
                    using=f"{c} AT TIME ZONE '{src}'",
                    reverse_using=f"{c} AT TIME ZONE '{src}'",
                )
            )
        elif "without" in col.type and dst_m:
            dst = "UTC" if dst_m.group(1).lower() == "utc" else dst_m.group(1)
            if dst == tz_from:
                raise UnderstandingError("the source and target time zones are the same")
            ops.append(
                P.Backfill(
                    table=t.qualified_name,
                    column=c,
                    value=f"({c} AT TIME ZONE '{tz_from}') AT TIME ZONE '{dst}'",
                    where=f"{c} IS NOT NULL",
                    reverse=f"({c} AT TIME ZONE '{dst}') AT TIME ZONE '{tz_from}'",
                )
            )
        elif "with time zone" in col.type:
            raise UnderstandingError(
                f"{t.name}.{c} is already timestamp with time zone: it stores instants, and the "
                "display zone is a session setting, not data",
                [f"zones named: {', '.join(zones) or 'none'}"],
            )
    if not ops:
        return None
    return ctx.plan(
        f"Convert {t.name}.{', '.join(cols)} time zone",
        ops,
        f"convert_{t.name}_{cols[0]}_timezone",
    )


# words that say values are longer than their column allows
_TRUNCATED = (
    r"\btruncat\w*|\bcut\s+off\b|\bget\s+cut\b|\bchopp?\w*|\bclipped\b|\btoo\s+long\b"
    r"|\bdo(?:n't|\s+not)\s+fit\b|\boverflow\w*|\blonger\b"
)
# the nouns a short display text is called by; a request's "names" can mean a `title`
_LABEL_WORDS = frozenset({"name", "title", "headline", "heading", "caption", "label", "subject"})


def _length_asked(ctx: Ctx) -> int | None:
    """The character limit a request asks for: "allow 200 characters", or a bare "allow
    300" said of values that get cut off; None when it asks for none."""
    ft = find_type(ctx.low)
    if ft is not None:
        m = re.fullmatch(r"character varying\((\d+)\)", ft[0])
        return int(m.group(1)) if m else None
    m = re.search(r"\b(?:allow|permit|fit|take|hold)\s+(?:up\s+to\s+)?(\d+)\b(?!\s*[%\w])", ctx.low)
    if m and ctx.has(_TRUNCATED):
        return int(m.group(1))
    return None


def _limit(c: Column) -> int | None:
    m = re.fullmatch(r"character(?: varying)?\((\d+)\)", c.type)
    return int(m.group(1)) if m else None


def _bounded_column(ctx: Ctx, t: Table, length: int) -> str:
    """The one column of `t` a length limit stated without naming it can mean: a bounded
    text column shorter than `length`, narrowed to the display texts (title, name, ...)
    when the request calls the values that; two plausible columns: a refusal."""
    pool = [c for c in t.columns if (n := _limit(c)) is not None and n < length]
    said = {singular(w) for w in re.findall(r"[a-z]+", ctx.low)} & _LABEL_WORDS
    if said and len(pool) > 1:
        labelled = [
            c
            for c in pool
            if _LABEL_WORDS & set(c.name.lower().split("_"))
            or (
                c.comment
                and _LABEL_WORDS & {singular(w) for w in re.findall(r"[a-z]+", c.comment.lower())}
            )
        ]
        pool = labelled or pool
    if len(pool) != 1:
        bounded = [c.name for c in t.columns if _limit(c) is not None]
        if not pool:
            raise UnderstandingError(
                f"understood: allow {length} characters in a column of {t.name}; no bounded "
                f"text column of {t.name} is shorter than that",
                [f"bounded text columns of {t.name}: {', '.join(bounded) or 'none'}"],
                f"name the column, e.g. 'allow {t.name}.<column> up to {length} characters'",
            )
        raise AmbiguousRequest(
            f"more than one column of {t.name} could be the one to allow {length} characters",
            [f"{c.name} ({c.type})" for c in pool],
        )
    c = pool[0]
    ctx.assumptions.append(
        f"the values cut off are {t.name}.{c.name} ({c.type}), the only "
        + ("display text " if said else "")
        + f"column of {t.name} limited below {length} characters"
    )
    return c.name


def _names_a_column(ctx: Ctx, t: Table) -> bool:
    return bool(ctx.columns_of(t)) or any(m.table is t for m, _ in ctx.r.dotted())


def alter_type(ctx: Ctx) -> P.DraftPlan | None:
    t = ctx.subject()
    length = _length_asked(ctx)
    if length is not None and not _names_a_column(ctx, t):
        col = _bounded_column(ctx, t, length)
    else:
        col = ctx.one_column(t, "change the type of")
    c = column_of(t, col)
    new = None
    tm = re.search(r"\b(?:to|into|as|become|becomes|be)\s+(?:an?\s+|the\s+)?(.{1,60})", ctx.low)
    candidates = []
    for m in re.finditer(
        r"\b(?:to|into|as|become|becomes|be|make\s+it|make\s+\S+|use)\s+(?:an?\s+|the\s+)?",
        ctx.low,
    ):
        ft = find_type(ctx.low[m.end() : m.end() + 50])
        if ft and ft[1] == 0:
            candidates.append(ft[0])
    if candidates:
        new = candidates[-1]
    elif ctx.has(r"\boverflow|\brun(?:ning)?\s+out\s+of\b") and type_family(c.type) == "int":
        new = "bigint"
        ctx.assumptions.append(f"{t.name}.{col} becomes bigint (it is about to overflow {c.type})")
    elif tm is None:
        types = find_types(ctx.low)
        new = types[-1] if types else None
    else:
        types = find_types(ctx.low)
        new = types[-1] if types else None
    if new is None and length is not None:
        new = f"character varying({length})"
    if new is None:
        return None
    if new in ("serial", "bigserial"):
        new = {"serial": "integer", "bigserial": "bigint"}[new]
    new_n = normalize_type(new)
    if new_n == "character varying" and type_family(c.type) == "text":
        return None
    if new_n == c.type:
        raise UnderstandingError(f"{t.name}.{col} is already {c.type}")
    ctx.categories += ["type_change"]
    ops: list[P.Operation] = []
    if new_n == "citext":
        ops += ctx.extension_ops("citext")
    using = None
    reverse = None
    m_len = re.fullmatch(r"character varying\((\d+)\)", new_n)
    if m_len and type_family(c.type) == "text":
        old_len = re.search(r"\((\d+)\)", c.type)
        shrinking = not old_len or int(old_len.group(1)) > int(m_len.group(1))
        if shrinking:
            if ctx.has(r"\btruncat|\bcut\b|\bchop|\btrim|\bshorten"):
                using = f"left({col}, {m_len.group(1)})::{new_n}"
                ctx.categories += ["data_migration"]
            else:
                ctx.warnings.append(
                    f"the upgrade fails if any {t.name}.{col} is longer than {m_len.group(1)} characters "
                    "(say 'truncate' to cut them)"
                )
    if type_family(c.type) == "timestamp" and type_family(new_n) == "timestamp":
        zone = re.search(r"\b(utc|[A-Z][a-z]+/[A-Za-z_]+)\b", ctx.request, re.I)
        z = "UTC" if not zone or zone.group(1).lower() == "utc" else zone.group(1)
        if not zone:
            ctx.assumptions.append(f"existing {t.name}.{col} values are in UTC")
        using = f"{col} AT TIME ZONE '{z}'"
        reverse = f"{col} AT TIME ZONE '{z}'"
        ctx.categories += ["timezone"]
    ops.append(
        P.AlterColumnType(
            table=t.qualified_name,
            column=col,
            new_type=new_n,
            using=using,
            reverse_using=reverse,
        )
    )
    # integer keys: the sequence and the referencing columns follow
    if type_family(c.type) == "int" and new_n == "bigint":
        seq = re.search(r"nextval\('([^']+)'", c.default or "")
        if seq is not None:
            ops.append(P.AlterSequenceType(name=seq.group(1), new_type="bigint"))
        if col in ctx.pk(t):
            for other in ctx.r.tables:
                for k in other.constraints:
                    if (
                        k.kind == "foreign_key"
                        and k.ref_table == t.qualified_name
                        and k.ref_columns == [col]
                    ):
                        oc = other.column(k.columns[0])
                        if oc is not None and oc.type in ("integer", "smallint"):
                            ops.append(
                                P.AlterColumnType(
                                    table=other.qualified_name,
                                    column=oc.name,
                                    new_type="bigint",
                                )
                            )
                            ctx.assumptions.append(
                                f"{other.name}.{oc.name} (references {t.name}.{col}) becomes bigint too"
                            )
    old_f, new_f = type_family(c.type), type_family(new_n)
    if (
        old_f != new_f
        and not (old_f in ("int", "num") and new_f in ("int", "num"))
        and new_f != "text"
    ):
        ctx.warnings.append(
            f"the upgrade fails if any {t.name}.{col} value does not convert to {new_n}"
        )
    return ctx.plan(
        f"Change {t.name}.{col} from {c.type} to {new_n}",
        ops,
        f"{t.name}_{col}_to_{snake(new_n)}",
    )
