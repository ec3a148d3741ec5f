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
from migagent.agent.offline.context import Ctx, column_of
from migagent.agent.offline.lexicon import (
    find_type,
    parse_value,
    ref_action,
    singular,
    variants,
)
from migagent.agent.offline.resolve import STOP
from migagent.agent.satypes import normalize_type
from migagent.tools.introspect.model import Table


def create_table(ctx: Ctx) -> P.DraftPlan | None:
    joined = tables_and_join_table(ctx)
    if joined is not None:
        return joined
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
    if m2 is None:
        return None
    name = ctx.new_name(m2.group(1), m2.end(1))
    if not name or name in STOP:
        return None
    if ctx.snap.table(name):
        return None  # an existing table: something else (add column, index...)
    ctx.categories += ["create_table"]
    # the column list: after ':' / 'with' / '(' up to the end of the sentence
    spec = ctx.text[m2.end() :]
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
            rtype = column_of(rt, rpk).type
            if c.name in inferred:
                columns[i] = c.model_copy(update={"type": rtype})
                ctx.assumptions[:] = [
                    a for a in ctx.assumptions if not a.startswith(f"{name}.{c.name} typed")
                ] + [f"{name}.{c.name} references {rt.name}.{rpk} ({rtype})"]
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
    hit = m or m3
    if hit is None:
        return None
    if not ctx.has(r"\brenam") and _arrow_is_a_reference(ctx):
        return None  # "orders.customer_id -> customers.id": a foreign key, not a rename
    if m is not None and m.re.groups == 4:
        old, kind, owner, new = m.group(1), m.group(2), m.group(3), m.group(4)
    elif m is not None:
        old, kind, owner, new = m.group(1), m.group(2), None, m.group(3)
    else:
        old, kind, owner, new = hit.group(1), None, None, hit.group(2)
    new_at = hit.end(hit.re.groups)
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


# ---------------------------------------------------------------- new tables and a join table
_TABLE_WORD = re.compile(
    r"\b([a-z_]\w*)\s+(?:(join|junction|link|linking|bridge|association|mapping)\s+)?table\b"
    r"|\btable\s+(?:called\s+|named\s+)?([a-z_]\w*)"
)
_JOIN_WORDS = (
    r"\b(?:join|junction|link|linking|bridge|association|mapping)\s+table\b|\bmany[- ]to[- ]many\b"
)
_CONSTRAINT_WORDS = {"unique", "required", "mandatory", "optional", "nullable", "distinct"}
_FILLER = {
    "a",
    "an",
    "the",
    "with",
    "its",
    "their",
    "each",
    "per",
    "of",
    "for",
    "column",
    "columns",
}


def tables_and_join_table(ctx: Ctx) -> P.DraftPlan | None:
    """New tables plus a join table between them and existing ones, in one request ("a
    tags table (unique tag names) and an itinerary_tags join table to itineraries"); None
    when the request asks for no join table. Columns said in words are linked by name:
    "unique tag names" is the column `name` of tags with a UNIQUE constraint."""
    if not ctx.has(_JOIN_WORDS):
        return None
    found: list[tuple[str, bool, int, int]] = []  # name, is the join table, start, end
    for m in _TABLE_WORD.finditer(ctx.low):
        name = m.group(1) or m.group(3)
        if name in STOP or name in _FILLER or name in ("join", "junction", "link", "new"):
            continue
        if ctx.snap.table(name) is not None or ctx.r.table_named(name, fuzzy=False):
            continue
        found.append((name, m.group(2) is not None, m.start(), m.end()))
    joins = [f for f in found if f[1]]
    if len(joins) != 1:
        return None
    entities = [f for f in found if not f[1]]
    join_name = joins[0][0]
    ctx.categories += ["create_table"]
    ops: list = []
    new_pks: dict[str, str] = {}
    for i, (name, _, _, end) in enumerate(found):
        if name == join_name:
            continue
        nxt = found[i + 1][2] if i + 1 < len(found) else len(ctx.low)
        ops.append(_entity_table(ctx, name, ctx.low[end:nxt]))
        new_pks[name] = "bigint"
    sides = _join_sides(ctx, join_name, [e[0] for e in entities])
    if sides is None:
        raise UnderstandingError(
            f"understood a join table {join_name}, but not which two tables it links",
            [f"new tables: {', '.join(e[0] for e in entities) or 'none'}"],
            f"name both sides, e.g. 'a {join_name} join table between "
            f"{(entities[0][0] if entities else 'tags')} and {ctx.r.tables[0].name if ctx.r.tables else 'items'}'",
        )
    action = ref_action(ctx.low)
    columns: list[P.ColumnDef] = []
    fks: list[P.AddForeignKey] = []
    for side in sides:
        t = ctx.snap.table(side) if side not in new_pks else None
        col = f"{singular(side.split('.')[-1])}_id"
        if t is not None:
            pk = ctx.pk(t)
            if len(pk) != 1:
                raise UnderstandingError(f"{t.name} has no single-column primary key to reference")
            ref_table, ref_col, typ = t.qualified_name, pk[0], column_of(t, pk[0]).type
        else:
            ref_table, ref_col, typ = side, "id", new_pks[side]
        columns.append(P.ColumnDef(name=col, type=typ, nullable=False))
        fks.append(
            P.AddForeignKey(
                table=join_name,
                name=f"{join_name}_{col}_fkey",
                columns=[col],
                ref_table=ref_table,
                ref_columns=[ref_col],
                on_delete=action,
            )
        )
    pk_cols = [c.name for c in columns]
    ops.append(
        P.CreateTable(table=join_name, columns=columns, primary_key=pk_cols, foreign_keys=fks)
    )
    ops.append(
        P.CreateIndex(
            table=join_name, name=idx_name(join_name, [pk_cols[1]], "idx"), keys=[pk_cols[1]]
        )
    )
    ctx.assumptions.append(
        f"the pair ({', '.join(pk_cols)}) is the primary key of {join_name}; {pk_cols[1]} gets "
        f"its own index for lookups from the other side"
    )
    names = [op.table for op in ops if isinstance(op, P.CreateTable)]
    return ctx.plan(f"Create tables {', '.join(names)}", ops, f"create_{'_'.join(names)}")


def _entity_table(ctx: Ctx, name: str, spec: str) -> P.CreateTable:
    """A new table whose columns are said in words after its name: '(unique tag names)',
    'with unique names', '(skill name unique)'; an identity `id` is its primary key."""
    spec = re.split(
        r"\b(?:and|plus)\s+(?:an?\s+|the\s+)?(?=[a-z_]\w*\s+(?:\w+\s+)?table\b)|;", spec
    )[0]
    spec = spec.strip(" ,.()")
    nouns = variants(name) | variants(singular(name))
    columns = [
        P.ColumnDef(
            name="id", type="bigint", nullable=False, identity="by default", primary_key=True
        )
    ]
    unique: list[list[str]] = []
    for item in re.split(r",|\band\b|\bplus\b|\(|\)", spec):
        words = [w for w in re.findall(r"[a-z_]\w*", item) if w not in _FILLER]
        if not words:
            continue
        typ = find_type(item)
        flags = {w for w in words if w in _CONSTRAINT_WORDS}
        rest = [w for w in words if w not in _CONSTRAINT_WORDS and w not in nouns]
        if typ is not None:
            rest = [w for w in rest if w not in typ[0].lower().split()]
        if not rest:
            continue
        cname = "_".join(singular(w) for w in rest)
        if cname == "id":
            continue
        ctype = typ[0] if typ else infer_type(cname, ctx.snap)
        if ctype is None:
            raise UnderstandingError(
                f"understood a new table {name} with a column {cname}, but not its type",
                None,
                f"say it, e.g. '{name} ({cname} text unique)'",
            )
        required = bool(flags & {"required", "mandatory", "unique", "distinct"})
        if flags & {"unique", "distinct"}:
            unique.append([cname])
            ctx.assumptions.append(
                f"{name}.{cname} is unique, so NOT NULL too (a {singular(name)} has one)"
            )
        columns.append(P.ColumnDef(name=cname, type=ctype, nullable=not required))
    return P.CreateTable(table=name, columns=columns, unique=unique)


def _join_sides(ctx: Ctx, join: str, new: list[str]) -> list[str] | None:
    """The two tables a join table links, in the order of its name (ticket_labels ->
    tickets, labels): existing tables by qualified name, new ones by their name."""

    def resolve(word: str) -> str | None:
        for n in new:
            if word in variants(n) or singular(word) == singular(n):
                return n
        hits = ctx.r.table_named(word, fuzzy=False)
        return hits[0].qualified_name if hits else None

    parts = join.split("_")
    for i in range(1, len(parts)):
        a, b = resolve("_".join(parts[:i])), resolve("_".join(parts[i:]))
        if a and b and a != b:
            return [a, b]
    mentioned = [m.table.qualified_name for m in ctx.r.table_mentions()]
    sides = list(dict.fromkeys([*mentioned, *new]))
    return sides if len(sides) == 2 else None
