"""Drop intents: a table, a column, an index or a constraint named in the request."""

from __future__ import annotations

import re

from migagent.agent import plan as P
from migagent.agent.errors import AmbiguousRequest, UnderstandingError
from migagent.agent.offline.context import Ctx
from migagent.tools.introspect.model import Table


def drop(ctx: Ctx) -> P.DraftPlan | None:
    # an index or constraint by name
    for t in ctx.r.tables:
        for ix in t.indexes:
            if re.search(rf"\b{re.escape(ix.name.lower())}\b", ctx.low):
                ctx.categories += ["drop_index"]
                if ix.constraint:
                    return ctx.plan(
                        f"Drop constraint {ix.constraint}",
                        [P.DropConstraint(table=t.qualified_name, name=ix.constraint)],
                    )
                return ctx.plan(
                    f"Drop index {ix.name}",
                    [P.DropIndex(table=t.qualified_name, name=ix.name)],
                    f"drop_{ix.name}",
                )
        for k in t.constraints:
            if k.kind != "not_null" and re.search(rf"\b{re.escape(k.name.lower())}\b", ctx.low):
                ctx.categories += ["drop_constraint"]
                return ctx.plan(
                    f"Drop constraint {k.name}",
                    [P.DropConstraint(table=t.qualified_name, name=k.name)],
                    f"drop_{k.name}",
                )
    dotted = ctx.r.dotted()
    if ctx.has(r"\btable\b") and not dotted:
        t = ctx.subject()
        if ctx.has(r"\b(?:column|field)s?\b"):
            return drop_column(ctx, t)
        return drop_table(ctx, t)
    t = ctx.subject()
    cols = ctx.columns_of(t)
    if not cols and not dotted:
        return (
            drop_table(ctx, t)
            if ctx.has(
                rf"\b(?:drop|remove|delete)\s+(?:the\s+)?(?:old\s+|legacy\s+|unused\s+)?{re.escape(t.name)}\b"
            )
            else None
        )
    return drop_column(ctx, t)


def drop_table(ctx: Ctx, t: Table) -> P.DraftPlan:
    ctx.categories += ["drop_table"]
    ops: list = []
    for other in ctx.r.tables:
        for k in other.constraints:
            if k.kind == "foreign_key" and k.ref_table == t.qualified_name and other is not t:
                ops.append(P.DropConstraint(table=other.qualified_name, name=k.name))
                ctx.warnings.append(
                    f"foreign key {other.name}.{k.name} to {t.name} is dropped with it"
                )
    ops.append(P.DropTable(table=t.qualified_name))
    ctx.warnings.append(f"dropping {t.name} deletes its rows; the downgrade recreates it empty")
    return ctx.plan(f"Drop table {t.name}", ops, f"drop_{t.name}_table")


def drop_column(ctx: Ctx, t: Table) -> P.DraftPlan:
    ctx.categories += ["drop_column"]
    cols: list[str] = []
    for m, col in ctx.r.dotted():
        if m.table is t:
            c = ctx.r.column_named(t, col)
            if c is None:
                raise UnderstandingError(
                    f"{t.name} has no column {col}",
                    [f"columns: {', '.join(x.name for x in t.columns)}"],
                )
            cols.append(c)
    if not cols:
        cols = ctx.columns_of(t)
        # only the columns named right after the verb
        vm = ctx.search(r"\b(?:drop|remove|delete|get\s+rid\s+of)\b")
        after_verb = ctx.r.column_mentions(t, start=vm.end() if vm else 0)
        cols = [m.column for m in after_verb if m.column is not None] or cols
        cols = list(dict.fromkeys(cols))
    if not cols:
        raise UnderstandingError(f"could not tell which column of {t.name} to drop")
    if len(cols) > 1 and not ctx.has(r"\band\b|,"):
        raise AmbiguousRequest(f"more than one column of {t.name} could be meant", cols)
    ops = [P.DropColumn(table=t.qualified_name, column=c) for c in cols]
    for c in cols:
        if any(c in k.columns for k in t.constraints if k.kind == "primary_key"):
            raise UnderstandingError(
                f"{t.name}.{c} is the primary key; drop it with --desired or by hand"
            )
    ctx.warnings.append(
        f"dropping {', '.join(f'{t.name}.{c}' for c in cols)} loses its data; deploy code that no longer reads it first"
    )
    return ctx.plan(
        f"Drop {', '.join(f'{t.name}.{c}' for c in cols)}",
        ops,
        f"drop_{t.name}_{'_'.join(cols)}",
    )
