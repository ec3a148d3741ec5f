"""Reshape intents: split one column into several, merge several into one."""

from __future__ import annotations

import itertools
import re

from migagent.agent import plan as P
from migagent.agent.errors import UnderstandingError
from migagent.agent.offline.common import (
    qtable,
)
from migagent.agent.offline.context import Ctx, column_of
from migagent.agent.offline.lexicon import (
    find_type,
)
from migagent.agent.offline.resolve import STOP
from migagent.agent.satypes import normalize_type
from migagent.tools.introspect.model import Table


def _table(ctx: Ctx, src: str, prefer: list[str]) -> Table:
    """The table of `src` ("t.col") or the request's subject, refused when none is named."""
    found = ctx.r.table_named(src.split(".")[0]) if "." in src else []
    t = found[0] if found else ctx.r.subject_table(prefer_columns=prefer)
    if t is None:
        raise UnderstandingError("could not tell which table the request is about")
    return t


def split(ctx: Ctx) -> P.DraftPlan | None:
    # (table, dropped column, SQL that rebuilds it from the parts) for the downgrade
    pending: tuple[Table, str, str] | None = None
    m = re.search(
        r"\bsplit\s+(?:the\s+)?(?:up\s+)?([a-z_][\w.]*)(?:\s+column)?(?:\s+(?:on|of|in)\s+(?:the\s+)?[a-z_]\w*)?\s+into\s+([^.;]+)",
        ctx.low,
    )
    if not m:
        return None
    noise = STOP | {
        "two",
        "three",
        "new",
        "nullable",
        "columns",
        "separate",
        "parts",
        "pieces",
        "both",
        "optional",
    }
    # the names end where the rule starts: "at the first space", "on ', '", "by comma"
    names = re.split(
        r"\s*,?\s+(?:at|on|by|before|after|using|wherever|where)\s+(?=(?:the\s+)?(?:first\s+|last\s+)?"
        r"(?:'|comma|space|dash|hyphen|slash|@|whitespace|separator|delimiter))",
        m.group(2),
    )[0]
    if re.search(r"\blast\s+(?:'|comma|space|dash|hyphen|slash|@)", m.group(2)):
        raise UnderstandingError(
            "splitting at the last separator is not planned offline",
            fix="split at the first one (e.g. 'split x into a and b at the first comma')",
        )
    targets = [w for w in re.findall(r"[a-z_]\w*", names) if w not in noise and not find_type(w)]
    if len(targets) < 2:
        raise UnderstandingError(
            "could not read the names of the columns to split into", [m.group(0)]
        )
    m_groups = [m.group(1), *targets[:4]]
    ctx.categories += ["data_migration", "split_column", "add_column", "backfill"]
    src = m.group(1)
    t = _table(ctx, src, [src.split(".")[-1]])
    src = src.split(".")[-1]
    c = ctx.r.column_named(t, src)
    if c is None:
        raise UnderstandingError(f"{t.name} has no column {src} to split")
    news = m_groups[1:]
    sep_m = re.search(
        r"\b(?:on|by|at|before|after)\s+(?:the\s+)?(?:first\s+)?('[^']*'|comma|space|dash|hyphen|slash|@)",
        ctx.low,
    )
    sep = " "
    if sep_m:
        token = sep_m.group(1)
        sep = {
            "comma": ",",
            "space": " ",
            "dash": "-",
            "hyphen": "-",
            "slash": "/",
            "@": "@",
        }.get(token, token.strip("'"))
    else:
        ctx.assumptions.append(f"{c} is split at the first space")
    coltype = column_of(t, c).type
    given = find_type(m.group(2))
    if given and given[0] not in ("serial", "bigserial"):
        coltype = normalize_type(given[0])
    ops: list = []
    for n in news:
        if t.column(n):
            raise UnderstandingError(f"{t.name}.{n} already exists")
        ops.append(P.AddColumn(table=t.qualified_name, column=P.ColumnDef(name=n, type=coltype)))
    s = sep.replace("'", "''")
    if len(news) == 2:
        exprs = [
            f"split_part({c}, '{s}', 1)",
            f"substr({c}, strpos({c}, '{s}') + {len(sep)})" if sep else "NULL",
        ]
        exprs[1] = f"CASE WHEN strpos({c}, '{s}') > 0 THEN {exprs[1]} END"
    else:
        exprs = [f"NULLIF(split_part({c}, '{s}', {i + 1}), '')" for i in range(len(news))]
    for n, e in zip(news, exprs, strict=True):
        ops.append(P.Backfill(table=t.qualified_name, column=n, value=e, where=f"{c} IS NOT NULL"))
    if ctx.has(r"\b(?:drop|remove|delete|replace|get\s+rid\s+of)\b"):
        ops.append(P.DropColumn(table=t.qualified_name, column=c))
        ctx.warnings.append(f"the downgrade restores {t.name}.{c} from {', '.join(news)} ")
        # reverse data: recompute the original from its parts
        ops[-1:-1] = []
        rev = f" || '{s}' || ".join(f"coalesce({n}, '')" for n in news)
        pending = (t, c, rev)
    else:
        ctx.assumptions.append(f"{t.name}.{c} is kept (say 'and drop {c}' to remove it)")
    plan = ctx.plan(f"Split {t.name}.{c} into {', '.join(news)}", ops, f"split_{t.name}_{c}")
    return _restore_dropped(plan, pending)


def merge(ctx: Ctx) -> P.DraftPlan | None:
    m = re.search(
        r"\b(?:merge|combine|concatenate|join)\s+(?:the\s+)?([a-z_][\w.]*)\s*(?:,|and|\+|with)\s*([a-z_][\w.]*)(?:\s*(?:,|and)\s*([a-z_][\w.]*))?(?:\s+columns?)?\s+(?:(?:on|of|in)\s+(?:the\s+)?[a-z_]\w*\s+)?into\s+(?:a\s+single\s+|a\s+|one\s+|the\s+)?(?:new\s+)?([a-z_][\w.]*)",
        ctx.low,
    )
    if not m:
        return None
    ctx.categories += ["data_migration", "merge_columns", "add_column", "backfill"]
    parts = [x.split(".")[-1] for x in m.groups()[:3] if x]
    new = m.group(4).split(".")[-1]
    t = _table(ctx, m.group(1), parts)
    cols: list[str] = []
    for p_ in parts:
        c = ctx.r.column_named(t, p_)
        if c is None:
            raise UnderstandingError(f"{t.name} has no column {p_} to merge")
        cols.append(c)
    sep = merge_separator(ctx.low, cols)
    ops: list = []
    if not t.column(new):
        ops.append(P.AddColumn(table=t.qualified_name, column=P.ColumnDef(name=new, type="text")))
    s = sep.replace("'", "''")
    ops.append(
        P.Backfill(
            table=t.qualified_name,
            column=new,
            value=f"NULLIF(concat_ws('{s}', {', '.join(cols)}), '')",
        )
    )
    if ctx.has(r"\b(?:drop|remove|delete|replace|get\s+rid\s+of)\b"):
        if len(cols) == 2:
            # the downgrade re-adds the columns empty: refill them from the merged one
            ops.append(
                P.RawSQL(
                    upgrade="",
                    downgrade=(
                        f"UPDATE {qtable(t)} SET {cols[0]} = split_part({new}, '{s}', 1), "
                        f"{cols[1]} = NULLIF(substr({new}, strpos({new}, '{s}') + {len(sep)}), '') "
                        f"WHERE {new} IS NOT NULL"
                    ),
                    table=t.qualified_name,
                )
            )
        for c in sorted(cols, key=lambda x: -column_of(t, x).position):
            ops.append(P.DropColumn(table=t.qualified_name, column=c))
    else:
        ctx.assumptions.append(f"{', '.join(cols)} are kept (say 'and drop them' to remove them)")
    return ctx.plan(f"Merge {t.name}.{' + '.join(cols)} into {new}", ops, f"merge_{t.name}_{new}")


_SEP_WORDS = {"comma": ", ", "space": " ", "dash": "-", "hyphen": "-", "slash": "/", "pipe": "|"}


def merge_separator(low: str, cols: list[str]) -> str:
    """What goes between the merged parts: told in words ("separated by a comma",
    "comma-separated", "with a dash between them"), or shown by a quoted example of
    the result that names the parts in order ("('street, city')", "as 'first last'");
    a space when nothing says otherwise."""
    words = "|".join(_SEP_WORDS)
    m = re.search(
        rf"\b(?:separated|joined|delimited)\s+(?:by|with)\s+(?:a\s+)?('[^']*'|{words})\b"
        rf"|\b({words})[- ](?:separated|delimited)\b|\bwith\s+(?:a\s+)?({words})\s+between\b",
        low,
    )
    if m:
        said = next(g for g in m.groups() if g)
        return _SEP_WORDS.get(said, said.strip("'"))
    for q in re.finditer(r"'([^']*)'", low):
        example = q.group(1)
        spots = [re.search(rf"\b{re.escape(c.lower())}\b", example) for c in cols]
        if all(spots) and all(
            a is not None and b is not None and a.end() <= b.start()
            for a, b in itertools.pairwise(spots)
        ):
            first, second = spots[0], spots[1]
            if first is not None and second is not None and second.start() > first.end():
                return example[first.end() : second.start()]
    return " "


def _restore_dropped(plan: P.DraftPlan, pending: tuple[Table, str, str] | None) -> P.DraftPlan:
    """The downgrade re-adds a column the split dropped empty; refill it from the parts."""
    if pending is None:
        return plan
    t, c, rev = pending
    for i, op in enumerate(plan.operations):
        if isinstance(op, P.DropColumn) and op.column == c:
            plan.operations.insert(
                i,
                P.RawSQL(
                    upgrade="",
                    downgrade=f"UPDATE {t.name} SET {c} = NULLIF({rev}, '')",
                    table=t.qualified_name,
                ),
            )
            break
    return plan
