"""Type intents: change a column's type, convert timestamps between time zones."""

from __future__ import annotations

import re

from migagent.agent import plan as P
from migagent.agent.errors import UnderstandingError
from migagent.agent.offline.context import Ctx
from migagent.agent.offline.lexicon import (
    find_type,
    find_types,
    snake,
)
from migagent.agent.satypes import normalize_type, type_family


def timezone(ctx: Ctx) -> P.DraftPlan | None:
    t = ctx.r.subject_table()
    cols = [c for c in ctx.columns_of(t) if type_family(t.column(c).type) == "timestamp"]
    for m_, col in ctx.r.dotted():
        if m_.table is t and ctx.r.column_named(t, col):
            cols = [ctx.r.column_named(t, col)]
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
    ops: list = []
    for c in cols:
        col = t.column(c)
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


def alter_type(ctx: Ctx) -> P.DraftPlan | None:
    t = ctx.r.subject_table()
    col = ctx.one_column(t, "change the type of")
    c = t.column(col)
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
    ops: list = []
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
        if c.default and "nextval(" in c.default:
            seq = re.search(r"nextval\('([^']+)'", c.default).group(1)
            ops.append(P.AlterSequenceType(name=seq, new_type="bigint"))
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
