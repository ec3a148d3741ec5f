"""Table intents: create a table (or a join table), rename a table or a column."""

from __future__ import annotations

import re

from migagent.agent import plan as P
from migagent.agent.errors import AmbiguousRequest, UnderstandingError
from migagent.agent.offline.common import (
    idx_name,
    infer_type,
    split_sentence,
    split_top,
)
from migagent.agent.offline.context import Ctx
from migagent.agent.offline.lexicon import (
    find_type,
    parse_value,
    ref_action,
)
from migagent.agent.offline.resolve import STOP
from migagent.agent.satypes import normalize_type
from migagent.tools.introspect.model import Table


def create_table(ctx: Ctx) -> P.DraftPlan | None:
    m = re.search(
        r"\b(?:create|add|new|make|introduce)\s+(?:a\s+|an\s+|the\s+)?(?:new\s+)?(?:table\s+(?:called\s+|named\s+)?)?[`'\"]?([a-z_][\w.]*)[`'\"]?(?:\s+table)?",
        ctx.low,
    )
    name = None
    m2 = (
        re.search(r"\btable\s+(?:called|named)\s+[`'\"]?([a-z_][\w]*)", ctx.low)
        or re.search(
            r"\b(?:create|add|new)\s+(?:a\s+|an\s+)?(?:new\s+)?([a-z_][\w]*)\s+table\b",
            ctx.low,
        )
        or re.search(r"\bcreate\s+table\s+([a-z_][\w.]*)", ctx.low)
        or re.search(r"\b(?:a|an)\s+(?:new\s+)?([a-z_][\w]*)\s+table\b", ctx.low)
    )
    if m2:
        name = ctx.new_name(m2.group(1), m2.end(1))
    if not name or name in STOP:
        return None
    if ctx.snap.table(name):
        return None  # an existing table: something else (add column, index...)
    ctx.categories += ["create_table"]
    # the column list: after ':' / 'with' / '(' up to the end of the sentence
    spec = ctx.text[m2.end() if m2 else m.end() :]
    spec = re.sub(r"^\s*(?:table\b)?\s*(?:with\s+(?:columns?\s+)?|:|\(|,)?", "", spec, flags=re.I)
    body, tail = split_sentence(spec)
    items = split_top(body)
    columns: list[P.ColumnDef] = []
    inferred: set[str] = set()
    fks: list[P.AddForeignKey] = []
    extra_ops: list = []
    pk: list[str] = []
    for raw in items:
        raw = raw.strip().strip("()").strip()
        if not raw:
            continue
        cm = re.match(r"(?:and\s+)?[`'\"]?([A-Za-z_][\w]*)[`'\"]?\s*(.*)$", raw, re.S)
        if not cm:
            continue
        cname, rest = cm.group(1).lower(), cm.group(2)
        rl = rest.lower()
        mpk = re.match(r"primary\s+key\s*\(([^)]*)\)", raw, re.I)
        if mpk:
            pk = [c.strip() for c in mpk.group(1).split(",")]
            continue
        typ = find_type(rest)
        ctype = typ[0] if typ else None
        is_pk = bool(re.search(r"\bprimary\s+key\b|\bpk\b", rl))
        identity = None
        if re.search(r"\bidentity\b", rl):
            identity = "always" if re.search(r"\balways\b", rl) else "by default"
        ref = re.search(
            r"\b(?:references?|referencing|foreign\s+key\s+to|fk\s+to|->)\s+([a-z_][\w.]*)(?:\s*\(\s*([a-z_]\w*)\s*\))?",
            rl,
        )
        if ctype is None:
            inferred.add(cname)
            ctype = infer_type(cname, ctx.snap)
            if ctype is None and ref:
                ctype = "bigint"
            if ctype is None:
                raise UnderstandingError(
                    f"no type given for column {cname} of the new table {name}"
                )
            if not is_pk:
                ctx.assumptions.append(f"{name}.{cname} typed {ctype} (inferred from its name)")
        default = None
        dm = re.search(
            r"\bdefault(?:s)?\s+(?:to\s+|of\s+|=\s*)?(.+?)(?:\s+not\s+null\b|\s+null\b|\s+references\b|\s+unique\b|$)",
            rest,
            re.I,
        )
        if dm:
            default = parse_value(
                dm.group(1),
                normalize_type(ctype) if ctype not in ("serial", "bigserial") else None,
            )
        nullable = not (is_pk or re.search(r"\bnot\s+null\b|\brequired\b|\bnon-null\b", rl))
        col = P.ColumnDef(
            name=cname,
            type=ctype,
            nullable=nullable,
            default=default,
            identity=identity,
            primary_key=is_pk,
        )
        columns.append(col)
        if ref:
            rt = ctx.snap.table(ref.group(1)) or (ctx.r.table_named(ref.group(1)) or [None])[0]
            if rt is None:
                raise UnderstandingError(
                    f"{name}.{cname} references {ref.group(1)}, which does not exist"
                )
            rcols = [ref.group(2)] if ref.group(2) else ctx.pk(rt)
            fks.append(
                P.AddForeignKey(
                    table=name,
                    name=f"{name}_{cname}_fkey",
                    columns=[cname],
                    ref_table=rt.qualified_name,
                    ref_columns=rcols,
                    on_delete=ref_action(rest[ref.end() :] + " " + rest),
                )
            )
        if re.search(r"\bunique\b", rl):
            extra_ops.append(("unique", cname))
    if not columns:
        raise UnderstandingError(
            f"found no column list for the new table {name}",
            [
                "write the columns after a colon: 'create table x: id bigserial primary key, name text not null'"
            ],
        )
    ctx_low = (tail + " " + body + " " + ctx.low).lower()
    if (
        not pk
        and not any(c.primary_key for c in columns)
        and re.search(
            r"\b(?:pair|both|composite|together|combination)\b[^.]{0,30}\bprimary\s+key|\bprimary\s+key\b[^.]{0,30}\b(?:pair|both|composite|combination)\b",
            ctx_low,
        )
    ):
        pk = [c.name for c in columns]
        columns = [c.model_copy(update={"nullable": False}) for c in columns]
    fk_words = re.search(
        r"\bfks?\b|\bforeign\s+keys?\b|\breferenc|\bmany[- ]to[- ]many\b|\bjoin\s+table\b|\bjunction\b",
        ctx_low,
    )
    # an untyped <thing>_id next to an existing <things> table is a reference to it too
    if fk_words or any(c.endswith("_id") for c in inferred):
        done = {c for fk in fks for c in fk.columns}
        for i, c in enumerate(columns):
            if not c.name.endswith("_id") or c.name in done:
                continue
            if not fk_words and c.name not in inferred:
                continue
            found = ctx.r.table_named(c.name[:-3])
            if not found or len(ctx.pk(found[0])) != 1:
                continue
            rt = found[0]
            rpk = ctx.pk(rt)[0]
            if c.name in inferred:
                columns[i] = c.model_copy(update={"type": rt.column(rpk).type})
                ctx.assumptions[:] = [
                    a for a in ctx.assumptions if not a.startswith(f"{name}.{c.name} typed")
                ] + [f"{name}.{c.name} references {rt.name}.{rpk} ({rt.column(rpk).type})"]
            fks.append(
                P.AddForeignKey(
                    table=name,
                    name=f"{name}_{c.name}_fkey",
                    columns=[c.name],
                    ref_table=rt.qualified_name,
                    ref_columns=[rpk],
                    on_delete=ref_action(ctx_low),
                )
            )
    if not pk and not any(c.primary_key for c in columns):
        ctx.warnings.append(f"the new table {name} has no primary key")
    unique = [[c] for kind, c in extra_ops if kind == "unique"]
    ops: list = [
        P.CreateTable(table=name, columns=columns, primary_key=pk, unique=unique, foreign_keys=fks)
    ]
    # a trailing "Index order_id." / "index on a and b"
    for im in re.finditer(
        r"\b(?:index(?:ed)?|idx)\s+(?:on\s+)?(?:the\s+)?([a-z_][\w]*(?:\s*(?:,|and)\s*[a-z_][\w]*)*)",
        tail.lower() + " " + body.lower(),
    ):
        names = [
            x for x in re.split(r"\s*(?:,|and)\s*", im.group(1)) if x in {c.name for c in columns}
        ]
        if names:
            ops.append(P.CreateIndex(table=name, name=idx_name(name, names, "idx"), keys=names))
    return ctx.plan(f"Create table {name}", ops, f"create_{name}_table")


def rename(ctx: Ctx) -> P.DraftPlan | None:
    m = re.search(
        r"\b(?:rename|renaming)\s+(?:the\s+)?(?:column\s+|table\s+)?[`'\"]?([a-z_][\w.]*)[`'\"]?(?:\s+(column|table|field))?(?:\s+(?:column|table))?\s*(?:on\s+|in\s+|of\s+)?(?:the\s+)?(?:([a-z_]\w*)\s+(?:table\s+)?)?(?:to|->|as|into|=>)\s+[`'\"]?([a-z_][\w]*)",
        ctx.low,
    ) or re.search(
        r"[`'\"]?([a-z_][\w.]*)[`'\"]?(?:\s+(column|table))?\s*(?:->|=>)\s*[`'\"]?([a-z_][\w]*)",
        ctx.low,
    )
    m3 = re.search(
        r"[`'\"]?([a-z_][\w.]*)[`'\"]?\s+should\s+be\s+called\s+[`'\"]?([a-z_]\w*)", ctx.low
    )
    if m is None and m3 is None:
        return None
    if not ctx.has(r"\brenam") and _arrow_is_a_reference(ctx):
        return None  # "orders.customer_id -> customers.id": a foreign key, not a rename
    if m is not None and m.re.groups == 4:
        old, kind, owner, new = m.group(1), m.group(2), m.group(3), m.group(4)
    elif m is not None:
        old, kind, owner, new = m.group(1), m.group(2), None, m.group(3)
    else:
        old, kind, owner, new = m3.group(1), None, None, m3.group(2)
    new_at = (m or m3).end((m or m3).re.groups)
    new = ctx.new_name(new, new_at)
    is_table_phrase = (
        kind == "table"
        or re.search(rf"\b{re.escape(old)}\s+table\b", ctx.low)
        or re.search(r"\btable\s+only\b", ctx.low)
    )
    if "." in old:
        head, col = old.split(".", 1)
        tables = ctx.r.table_named(head)
        if not tables:
            raise UnderstandingError(f"no table {head} to rename a column of")
        t = tables[0]
        c = ctx.r.column_named(t, col)
        if c is None:
            raise UnderstandingError(
                f"{t.name} has no column {col}",
                [f"columns: {', '.join(x.name for x in t.columns)}"],
            )
        return _rename_column(ctx, t, c, new)
    tables = ctx.r.table_named(old, fuzzy=False)
    if tables and (is_table_phrase or not _column_anywhere(ctx, old)):
        t = tables[0]
        if ctx.snap.table(new):
            raise UnderstandingError(f"cannot rename {t.name} to {new}: that table exists")
        ctx.categories += ["rename_table"]
        return ctx.plan(
            f"Rename table {t.name} to {new}",
            [P.RenameTable(table=t.qualified_name, new_name=new)],
            f"rename_{t.name}_to_{new}",
        )
    # a column: of the named owner table, or of the subject
    t = None
    if owner:
        found = ctx.r.table_named(owner)
        t = found[0] if found else None
    if t is None:
        owners = [x for x in ctx.r.tables if ctx.r.column_named(x, old, fuzzy=False)]
        mentioned = {mm.table.qualified_name for mm in ctx.r.table_mentions()}
        scoped = [x for x in owners if x.qualified_name in mentioned]
        if len(scoped) == 1:
            t = scoped[0]
        elif len(owners) == 1:
            t = owners[0]
        elif owners:
            raise AmbiguousRequest(
                f"column {old} exists in several tables", [f"{x.name}.{old}" for x in owners]
            )
        else:
            raise UnderstandingError(f"found no table or column named {old}")
    c = ctx.r.column_named(t, old)
    if c is None:
        raise UnderstandingError(
            f"{t.name} has no column {old}",
            [f"columns: {', '.join(x.name for x in t.columns)}"],
        )
    return _rename_column(ctx, t, c, new)


def _arrow_is_a_reference(ctx: Ctx) -> bool:
    """`a.b -> t.c` (t an existing table with column c), or `a.b -> t` with words of a
    reference: the arrow points at what the column references, it names no new name."""
    for am in re.finditer(r"->\s*[`'\"]?([a-z_]\w*)(?:\.([a-z_]\w*))?", ctx.low):
        found = ctx.r.table_named(am.group(1), fuzzy=False)
        if not found:
            continue
        if am.group(2) is not None and found[0].column(am.group(2)) is not None:
            return True
        if ctx.has(r"\bfks?\b|\bforeign\s+keys?\b|\breferenc|\bon\s+delete\b"):
            return True
    return False


def _column_anywhere(ctx: Ctx, name: str) -> bool:
    return any(ctx.r.column_named(t, name, fuzzy=False) for t in ctx.r.tables)


def _rename_column(ctx: Ctx, t: Table, c: str, new: str) -> P.DraftPlan:
    if t.column(new):
        raise UnderstandingError(f"cannot rename {t.name}.{c} to {new}: that column exists")
    ctx.categories += ["rename_column"]
    ctx.warnings.append(
        f"code reading {t.name}.{c} breaks when this is applied: deploy code that uses {new} together with it"
    )
    return ctx.plan(
        f"Rename {t.name}.{c} to {new}",
        [P.RenameColumn(table=t.qualified_name, column=c, new_name=new)],
        f"rename_{t.name}_{c}_to_{new}",
    )
