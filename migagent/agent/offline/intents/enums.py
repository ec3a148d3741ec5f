"""Enum intents: create an enum type (and convert a column to it), add a label."""

from __future__ import annotations

import re

from migagent.agent import plan as P
from migagent.agent.errors import AmbiguousRequest, UnderstandingError
from migagent.agent.offline.common import (
    read_labels,
)
from migagent.agent.offline.context import Ctx, column_of
from migagent.agent.offline.intents.columns import add_column
from migagent.agent.offline.lexicon import (
    singular,
    snake,
)
from migagent.agent.offline.naming import new_column_name
from migagent.agent.satypes import type_family


def enum(ctx: Ctx) -> P.DraftPlan | None:
    enums = {e.name: e for e in ctx.snap.enums.values()}
    # add a value to an existing enum
    m = re.search(
        r"\badd\s+(?:a\s+|the\s+)?(?:new\s+)?(?:value\s+|label\s+|status\s+|state\s+)?'?([\w -]+?)'?\s+(?:value\s+|label\s+|option\s+)?(?:to|in)\s+(?:the\s+)?([a-z_][\w.]*)",
        ctx.text,
        re.I,
    )
    if m:
        target = m.group(2).lower()
        e = enums.get(target)
        if e is None:
            t = ctx.r.table_named(target.split(".")[0]) if "." in target else []
            if t:
                col = t[0].column(target.split(".")[1])
                if col is not None:
                    e = enums.get(col.type.split(".")[-1])
        if e is None:
            # "to the status enum" / "to order_status"
            for name, en in enums.items():
                if re.search(rf"\b{re.escape(name)}\b", ctx.low) or re.search(
                    rf"\b{re.escape(target)}\b", name
                ):
                    e = en
                    break
        if e is not None:
            value = m.group(1).strip().strip("'\"")
            value = re.sub(r"^(?:value|label)\s+", "", value, flags=re.I)
            if value in e.labels:
                raise UnderstandingError(f"enum {e.name} already has the value {value!r}")
            pos = re.search(r"\b(before|after)\s+'?([\w-]+)'?", ctx.text[m.end() :], re.I)
            ctx.categories += ["enum", "add_enum_value"]
            op = P.AddEnumValue(
                name=f"{e.schema_name}.{e.name}" if e.schema_name != "public" else e.name,
                value=value,
            )
            if pos and pos.group(2) in e.labels:
                setattr(op, pos.group(1).lower(), pos.group(2))
            return ctx.plan(
                f"Add {value!r} to enum {e.name}", [op], f"add_{snake(value)}_to_{e.name}"
            )
    t0 = ctx.r.subject_table(required=False)
    if t0 is not None and new_column_name(ctx, t0):
        return add_column(ctx)
    labels = read_labels(ctx.r.text)
    vm = re.search(
        r"\b(?:with\s+(?:the\s+)?values?|values?\s*:|labels?\s*:?)\s+(.+?)(?:\s*\(in\s+that\s+order\)|\s+in\s+that\s+order|[.;]\s|$)",
        ctx.r.text,
        re.I,
    )
    if vm:
        found = [
            x.strip().strip("'\"")
            for x in re.split(r",|\s+or\s+|\s+and\s+|/", vm.group(1))
            if x.strip()
        ]
        if len(found) >= 2:
            labels = found
    if not labels:
        raise UnderstandingError(
            "found no enum values in the request", ["write them quoted: 'draft', 'published'"]
        )
    # convert a column to a (new) enum?
    t = ctx.r.subject_table(required=False)
    col = None
    if t is not None:
        cols = [c for c in ctx.columns_of(t) if type_family(column_of(t, c).type) == "text"]
        col = cols[0] if len(cols) == 1 else None
        if len(cols) > 1:
            raise AmbiguousRequest(f"more than one column of {t.name} could become the enum", cols)
    name_m = re.search(
        r"\b(?:enum|type)\s+(?:type\s+)?(?:named\s+|called\s+)?[`'\"]?([a-z_]\w*)", ctx.low
    )
    ename = (
        name_m.group(1)
        if name_m and name_m.group(1) not in ("with", "of", "for", "type", "values", "that", "and")
        else None
    )
    if ename is None:
        ename = f"{singular(t.name)}_{col}" if t is not None and col else None
    if ename is None:
        raise UnderstandingError("could not tell the name of the enum type")
    if ename in enums:
        raise UnderstandingError(f"enum {ename} already exists")
    ctx.categories += ["enum", "create_enum"]
    ops: list = [P.CreateEnum(name=ename, labels=labels)]
    if t is not None and col:
        current = column_of(t, col)
        ctx.categories += ["type_change"]
        using = f"{col}::text::{ename}"
        if ctx.has(r"\bnormali[sz]|\bmess|\bclean|\binconsistent|\bmixed\s+case|\bvariants?\b"):
            using = f"replace(lower(btrim({col})), ' ', '_')::{ename}"
            ctx.categories += ["data_migration"]
            ctx.assumptions.append(
                "existing values are normalised (lower, btrim, spaces to '_') before the cast"
            )
        ops.append(
            P.AlterColumnType(
                table=t.qualified_name,
                column=col,
                new_type=ename,
                using=using,
                reverse_using=f"{col}::text::{current.type}"
                if current.type != "text"
                else f"{col}::text",
            )
        )
        for k in t.constraints:
            if (
                k.kind == "check"
                and col in k.columns
                and re.search(r"\bANY\b|\bIN\b|=", k.definition)
            ):
                ops.insert(1, P.DropConstraint(table=t.qualified_name, name=k.name))
                ctx.assumptions.append(f"check {k.name} is replaced by the enum type")
        return ctx.plan(f"Make {t.name}.{col} an enum {ename}", ops, f"{t.name}_{col}_enum")
    return ctx.plan(f"Create enum type {ename}", ops, f"create_{ename}_enum")
