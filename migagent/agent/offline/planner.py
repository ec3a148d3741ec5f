"""The offline planner: a deterministic reading of a one-line request.

`plan_request(request, facts)` detects the intent (keywords with synonyms, in
a fixed priority), resolves the tables and columns it names against the live
schema (`resolve.Resolver`), parses types, defaults, index kinds, foreign-key
targets, enum labels and data transformations from the words, and returns a
`DraftPlan`. Whatever it cannot pin down raises `UnderstandingError` or
`AmbiguousRequest` with what it considered: it never guesses silently.
Inferred details (a type from a column name, a text search configuration)
are recorded as plan assumptions, which the spec shows for review.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from migagent.agent import plan as P
from migagent.agent.errors import AmbiguousRequest, UnderstandingError
from migagent.agent.offline import data_intents, rules
from migagent.agent.offline.lexicon import (
    base_verbs,
    find_type,
    find_types,
    parse_value,
    plural,
    protect_quoted,
    ref_action,
    restore_quoted,
    singular,
    snake,
    strip_commit_noise,
)
from migagent.agent.offline.resolve import STOP, Resolver
from migagent.agent.satypes import normalize_type, type_family
from migagent.tools.introspect.model import Column, Table

TEXT_SEARCH_CONFIGS = (
    "simple", "arabic", "danish", "dutch", "english", "finnish", "french", "german", "greek",
    "hungarian", "indonesian", "irish", "italian", "lithuanian", "nepali", "norwegian",
    "portuguese", "romanian", "russian", "serbian", "spanish", "swedish", "tamil", "turkish",
)  # fmt: skip


def _idx_name(table: str, parts: list[str], suffix: str) -> str:
    base = "_".join([table, *[snake(p) or "expr" for p in parts]])
    return f"{base[: 63 - len(suffix) - 1]}_{suffix}"


class Planner:
    def __init__(self, request: str, facts: P.Facts):
        # "feat(db): ..." / "... (#123)" are commit-message noise, not the request
        self.request = strip_commit_noise(request.strip())
        self.facts = facts
        self.snap = facts.snapshot
        # double-quoted identifiers become one-word tokens the resolver maps back exactly
        protected, self.quoted = protect_quoted(self.request)
        # "Adds", "renamed", "dropping": every intent reads the base verb
        text = base_verbs(protected)
        # "warehouses: add region": the table first, as commit messages scope them
        head = re.match(
            r"\s*([a-z_][\w.]*)\s*:\s*((?:add|create|introduce)\b(?:(?!\b(?:to|on|in)\b).)*)$",
            text,
            re.I,
        )
        if head and Resolver(self.snap, head.group(1)).table_named(head.group(1), fuzzy=False):
            text = f"{head.group(2).rstrip(' .')} to {head.group(1)}"
        self.r = Resolver(self.snap, text, self.quoted)
        self.text = self.r.text
        self.low = self.r.low
        self.assumptions: list[str] = []
        self.warnings: list[str] = []
        self.categories: list[str] = []

    # ------------------------------------------------------------ helpers
    def has(self, pattern: str) -> bool:
        return re.search(pattern, self.low) is not None

    def search(self, pattern: str) -> re.Match | None:
        return re.search(pattern, self.low)

    def explicit_name(self) -> str | None:
        m = re.search(r"\b(?:named|called)\s+[`'\"]?([a-z_][\w$]*)", self.text, re.I)
        return m.group(1) if m else None

    def _new_name(self, name: str, end: int) -> str:
        """A name the request gives a new object: a quoted one literally; an unquoted
        one only when the word really ends there (`first-name` is not `first`)."""
        literal = self.r.literal(name)
        if literal is not None:
            return literal
        if re.match(r"-[\w$]", self.low[end : end + 2]):
            start = end
            while start > 0 and (self.low[start - 1].isalnum() or self.low[start - 1] in "_$"):
                start -= 1
            word = re.match(r"[\w$]*(?:-[\w$]+)+", self.low[start:])
            shown = word.group(0) if word else name
            raise UnderstandingError(
                f"{shown} is not a valid identifier without double quotes",
                fix=f'write {snake(shown)}, or "{shown}" in double quotes',
            )
        return name

    def columns_of(self, t: Table, **kw) -> list[str]:
        out: list[str] = []
        for m in self.r.column_mentions(t, **kw):
            if m.column not in out:
                out.append(m.column)
        return out

    def one_column(
        self, t: Table, what: str, *, prefer: Callable[[Column], bool] | None = None
    ) -> str:
        cols = self.columns_of(t)
        for m, col in self.r.dotted():
            if m.table is t:
                c = self.r.column_named(t, col)
                if c is None:
                    raise UnderstandingError(
                        f"{t.name} has no column {col!r}",
                        [f"columns of {t.name}: {', '.join(c.name for c in t.columns)}"],
                    )
                return c
        if prefer:
            cols = [c for c in cols if prefer(t.column(c))] or cols
        if len(cols) == 1:
            return cols[0]
        if not cols:
            raise UnderstandingError(
                f"could not tell which column of {t.name} to {what}",
                [f"columns of {t.name}: {', '.join(c.name for c in t.columns)}"],
            )
        raise AmbiguousRequest(f"more than one column of {t.name} could be meant to {what}", cols)

    def pk(self, t: Table) -> list[str]:
        k = next((c for c in t.constraints if c.kind == "primary_key"), None)
        return list(k.columns) if k else []

    def plan(self, intent: str, ops: list, slug: str | None = None, **kw) -> P.DraftPlan:
        return P.DraftPlan(
            intent=intent,
            slug=(slug or snake(intent))[:60].strip("_"),
            operations=ops,
            assumptions=self.assumptions,
            warnings=self.warnings,
            categories=self.categories,
            **kw,
        )

    def extension_ops(self, name: str) -> list:
        if name in {e.name for e in self.snap.extensions.values()} or name in self.snap.extensions:
            return []
        return [P.CreateExtension(name=name)]

    # ------------------------------------------------------------ dispatch
    def run(self) -> P.DraftPlan:
        if not self.request:
            raise UnderstandingError("the request is empty")
        if not self.r.tables and not self.has(r"\bcreate\b.*\btable\b|\bextension\b|\benum\b"):
            raise UnderstandingError("the schema has no tables to change")
        handlers: list[tuple[str, Callable[[], P.DraftPlan | None]]] = [
            (data_intents.TRIGGER, self.data_statement),
            # "drop the redundant X index": a drop, before any intent that creates indexes
            (
                r"^\s*(?:please\s+)?(?:drop|remove|delete|get\s+rid\s+of)\b[^,;]*\b(?:index|indexes|idx)\b",
                self.drop_index_in_words,
            ),
            (
                r"\bfull[- ]?text\b|\bfts\b|\btsvector\b|\btext[- ]search\b|\bsearch[_ ]vector\b",
                self.full_text,
            ),
            (
                r"\btrigram|\bpg_trgm\b|\btrgm\b|\bilike\s+'%|\bsimilarity\s+search|\bfuzzy\s+search",
                self.trigram,
            ),
            (
                r"\b(?:create|add|new|make|introduce)\b.{0,40}\btable\b|\b(?:a|an)\s+(?:new\s+)?[a-z_]+\s+table\s*[(:]|\bmany[- ]to[- ]many\b|\bcreate\s+table\b|\bnew\s+\w+\s+table\b",
                self.create_table,
            ),
            (r"\brename\b|\bshould\s+be\s+called\b|\bcall\s+it\b|->", self.rename),
            (r"\bsplit\b", self.split),
            (r"\b(?:merge|combine|concatenate|join)\b.{0,80}\binto\b", self.merge),
            (r"\btime\s*zones?\b|\bfrom\s+utc\b|\bto\s+utc\b|\blocal\s+time\b", self.timezone),
            (
                r"\bbackfill|\bpopulate\b|\bfill\s+(?:in\s+)?(?!.*\bnull)|\bcopy\b.{0,60}\b(?:into|to|from)\b",
                self.backfill,
            ),
            (r"\benum\b|\benumerat", self.enum),
            (
                r"\b(?:add|adding|need|needs|new|store|track|introduce|want|create)\b.{0,80}\b(?:column|field|attribute)\b|\badd\s+(?:a\s+|an\s+)?(?:nullable\s+|new\s+)?[a-z_]+\s+(?:to|on)\s+(?:the\s+)?[a-z_]+",
                self.add_column,
            ),
            (
                r"\bindex(?:es|ed)?\b|\bidx\b|\bspeed\b|\bslow\b|\blookups?\b|\bfaster\b|\bseq(?:uential)?\s+scan|\bbrin\b|\bgin\b|\bgist\b",
                self.index,
            ),
            (
                r"\bforeign\s+key|\bfk\b|\breferenc|\bpoint(?:s|ing)?\s+(?:at|to)\b|\blink(?:ed)?\s+to\b",
                self.foreign_key,
            ),
            (rules.RULE_TRIGGER, self.rule_check),
            (
                r"\bcheck\b|\bonly\s+(?:ever\s+)?be\b|\bmust\s+be\s+one\s+of\b|\ballowed\s+values\b|\bnever\s+be\s+negative|\bmust\s+(?:be|not\s+be)\s+(?:positive|negative|non-negative|between|greater|less|at\s+least|at\s+most)|\bcan(?:not|'t)\s+be\s+negative|\bpositive\b|\bnon-negative\b|\bbetween\b.+\band\b",
                self.check,
            ),
            (r"\bdefault", self.default),
            (
                r"\bnew\s+[a-z_]\w*(?:\s+[a-z_]\w*)?\s+(?:should\s+|will\s+|must\s+|always\s+)*(?:start|begin|get)s?\b",
                self.business_default,
            ),
            (
                r"\ballow\b[^;]{0,60}?\bto\s+be\s+(?:null|empty|missing|blank|unset)\b|\brequired\b|\bnot\s+null\b|\bnon-?null(?:able)?\b|\bmandatory\b|\bnever\s+(?:be\s+)?null\b|\bnot\s+be\s+null\b|\bcan(?:not|'t|\s+not)\s+be\s+(?:null|empty|missing)|\bmust\s+(?:always\s+)?(?:be\s+set|have\s+a)\b|\boptional\b|\bnullable\b|\ballow\s+nulls?\b|\bdrop\s+not\s+null\b",
                self.nullability,
            ),
            (
                r"\bunique\b|\buniqueness\b|\bduplicates?\b|\bdistinct\b|\bno\s+two\b|"
                r"\b(?:share|have|use|reuse)\s+the\s+same\b|\bsame\s+\w+(?:\s+\w+)?\s+(?:twice|more\s+than\s+once)\b",
                self.unique,
            ),
            (r"\b(?:drop|remove|delete|get\s+rid\s+of|delete)\b", self.drop),
            (
                r"\b(?:change|convert|switch|make|bump|widen|alter|increase|extend|cap|limit|shorten|turn|migrate|move|allow)\b|\boverflow|\btype\b|\b(?:to|be|become|as)\s+(?:an?\s+)?(?:bigint|text|varchar|jsonb|uuid|integer|boolean|timestamptz|citext|numeric|date)\b",
                self.alter_type,
            ),
            (r"\b(?:add|adding)\b", self.add_column),
            (r"\bextension\b|\benable\b|\binstall\b", self.extension),
            (data_intents.TRIGGER, self.data_statement_final),
        ]
        handlers.insert(
            9,  # after `backfill` (the data intent comes first)
            (
                r"\b(?:add|adding|new|need|needs|introduce|want|store|track|create)\b",
                self._maybe_add_column,
            ),
        )
        handlers.insert(
            5,  # after `rename`
            (r"\boverlap|\bdouble[- ]book|\bexclu(?:de|sion)\s+constraint", self.exclusion),
        )
        for pattern, handler in handlers:
            if re.search(pattern, self.low):
                result = handler()
                if result is not None:
                    return result
        raise self.not_understood()

    def not_understood(self) -> UnderstandingError:
        """A refusal in the user's words: what was understood, what is missing, an example."""
        named = list(dict.fromkeys(m.table.name for m in self.r.table_mentions()))
        considered = (
            [f"it names {', '.join(named)}, but no change to make to it"]
            if named
            else [f"tables in the schema: {', '.join(t.name for t in self.r.tables[:10])}"]
        )
        t = next((x for x in self.r.tables if x.name in named), None) or (
            self.r.tables[0] if self.r.tables else None
        )
        example = (
            f"e.g. 'add a notes text column to {t.name}', 'index {t.name}.{t.columns[-1].name}'"
            if t is not None and t.columns
            else "e.g. 'create table notes: id bigserial primary key, body text'"
        )
        return UnderstandingError(
            "could not tell what change this request asks for",
            considered,
            f"say what to change and where, {example}; or pass the target schema with "
            "--desired desired.sql, or use --backend claude",
        )

    # ------------------------------------------------------------ data migrations
    def data_statement(self) -> P.DraftPlan | None:
        return data_intents.plan_data_statement(self)

    def data_statement_final(self) -> P.DraftPlan | None:
        return data_intents.plan_data_statement(self, final=True)

    # ------------------------------------------------------------ full-text search
    def full_text(self) -> P.DraftPlan:
        self.categories += ["add_column", "generated_column", "index", "full_text_search"]
        t = self.r.subject_table()
        col = None
        cm = re.search(
            r"\b(?:column|vector|tsvector)\s+(?:named\s+|called\s+)[`'\"]?([a-z_]\w*)", self.low
        ) or re.search(r"\b(?:column|vector)\s+[`'\"]([a-z_]\w*)[`'\"]", self.low)
        if cm and not t.column(cm.group(1)):
            col = cm.group(1)
        if col is None:
            for cand in re.findall(r"\b([a-z_]*(?:vector|tsv|search)[a-z_]*)\b", self.low):
                if "_" in cand and not t.column(cand):
                    col = cand
                    break
        col = col or "search_vector"
        existing = t.column(col)
        if existing is not None and existing.type == "tsvector":
            raise UnderstandingError(f"{t.name}.{col} already exists as a tsvector column")
        named = re.search(
            r"\b(?:index|gin)\b[^.]*?\b(?:named|called)\s+[`'\"]?([a-z_][\w]*)", self.low
        ) or re.search(r"\b(idx_[a-z_0-9]+|[a-z_0-9]+_(?:idx|fts))\b", self.low)
        ix_name = named.group(1) if named else f"idx_{t.name}_fts"
        lang = next(
            (c for c in TEXT_SEARCH_CONFIGS if re.search(rf"(?<![\w-]){c}(?![\w-])", self.low)),
            None,
        )
        if lang is None:
            lang = "english"
            self.assumptions.append("text search configuration 'english' (none was named)")
        mentioned = [
            c for c in self.columns_of(t) if c != col and type_family(t.column(c).type) == "text"
        ]
        sources = mentioned
        if not sources:
            sources = [
                c.name
                for c in t.columns
                if type_family(c.type) == "text"
                and not c.generated
                and not re.search(
                    r"(_id|_key|_hash|_token|_url|^email|^status|^slug|^sku|^version|^code|^kind|^type|^state|^currency|^phone|^language|^locale)$|^(id|uuid)$",
                    c.name,
                )
                and not ((m := re.search(r"\((\d+)\)", c.type)) and int(m.group(1)) < 100)
            ]
            if not sources:
                raise UnderstandingError(
                    f"could not tell which columns of {t.name} to search",
                    [f"text columns of {t.name}: none found"],
                )
            self.assumptions.append(
                f"search over {', '.join(sources)} (the text columns of {t.name})"
            )
        weights: dict[str, str] = {}
        sources = list(sources)
        for c in sources:
            wm = re.search(
                rf"\b{re.escape(c)}\b[^,.;]{{0,25}}?\bweight\s+([abcd])\b()", self.low
            ) or re.search(rf"\bweight\s+([abcd])\b[^,.;]{{0,20}}?\b{re.escape(c)}\b()", self.low)
            if wm:
                weights[c] = (wm.group(1) or wm.group(2)).upper()
        if weights:
            sources = [c for c in sources if c in weights]
            parts = [
                f"setweight(to_tsvector('{lang}', coalesce({c}, '')), '{weights.get(c, 'D')}')"
                for c in sources
            ]
            expr = " || ".join(parts)
            self.categories += ["weighted"]
        else:
            body = " || ' ' || ".join(f"coalesce({c}, '')" for c in sources)
            expr = f"to_tsvector('{lang}', {body})"
        if self.snap.server_version < 120000:
            raise UnderstandingError("generated columns need PostgreSQL 12 or later")
        ops: list = [
            P.AddColumn(
                table=t.qualified_name,
                column=P.ColumnDef(name=col, type="tsvector", generated=expr),
            ),
            P.CreateIndex(
                table=t.qualified_name, name=ix_name, keys=[col], method="gin", kind="fts"
            ),
        ]
        return self.plan(
            f"Add full-text search to {t.name}", ops, f"add_fulltext_search_to_{t.name}"
        )

    def trigram(self) -> P.DraftPlan:
        self.categories += ["index", "trigram", "extension"]
        t = self.r.subject_table()
        cols = [c for c in self.columns_of(t) if type_family(t.column(c).type) == "text"]
        dotted = [self.r.column_named(t, c) for m, c in self.r.dotted() if m.table is t]
        cols = [c for c in dotted if c] or cols
        if not cols:
            raise UnderstandingError(
                f"could not tell which text column of {t.name} to index with trigrams"
            )
        if len(cols) > 1 and not self.has(r"\b(?:both|and)\b"):
            raise AmbiguousRequest(f"more than one column of {t.name} could be meant", cols)
        method = "gist" if self.has(r"\bgist\b") else "gin"
        opclass = "gist_trgm_ops" if method == "gist" else "gin_trgm_ops"
        ops: list = self.extension_ops("pg_trgm")
        for c in cols:
            ops.append(
                P.CreateIndex(
                    table=t.qualified_name,
                    name=self.explicit_name() or _idx_name(t.name, [c], "trgm_idx"),
                    keys=[c],
                    method=method,
                    opclasses={c: opclass},
                    kind="trigram",
                )
            )
        return self.plan(f"Add trigram index on {t.name}.{', '.join(cols)}", ops)

    # ------------------------------------------------------------ create table
    def create_table(self) -> P.DraftPlan | None:
        m = re.search(
            r"\b(?:create|add|new|make|introduce)\s+(?:a\s+|an\s+|the\s+)?(?:new\s+)?(?:table\s+(?:called\s+|named\s+)?)?[`'\"]?([a-z_][\w.]*)[`'\"]?(?:\s+table)?",
            self.low,
        )
        name = None
        m2 = (
            re.search(r"\btable\s+(?:called|named)\s+[`'\"]?([a-z_][\w]*)", self.low)
            or re.search(
                r"\b(?:create|add|new)\s+(?:a\s+|an\s+)?(?:new\s+)?([a-z_][\w]*)\s+table\b",
                self.low,
            )
            or re.search(r"\bcreate\s+table\s+([a-z_][\w.]*)", self.low)
            or re.search(r"\b(?:a|an)\s+(?:new\s+)?([a-z_][\w]*)\s+table\b", self.low)
        )
        if m2:
            name = self._new_name(m2.group(1), m2.end(1))
        if not name or name in STOP:
            return None
        if self.snap.table(name):
            return None  # an existing table: something else (add column, index...)
        self.categories += ["create_table"]
        # the column list: after ':' / 'with' / '(' up to the end of the sentence
        spec = self.text[m2.end() if m2 else m.end() :]
        spec = re.sub(
            r"^\s*(?:table\b)?\s*(?:with\s+(?:columns?\s+)?|:|\(|,)?", "", spec, flags=re.I
        )
        body, tail = _split_sentence(spec)
        items = _split_top(body)
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
                ctype = _infer_type(cname, self.snap)
                if ctype is None and ref:
                    ctype = "bigint"
                if ctype is None:
                    raise UnderstandingError(
                        f"no type given for column {cname} of the new table {name}"
                    )
                if not is_pk:
                    self.assumptions.append(
                        f"{name}.{cname} typed {ctype} (inferred from its name)"
                    )
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
                rt = (
                    self.snap.table(ref.group(1)) or (self.r.table_named(ref.group(1)) or [None])[0]
                )
                if rt is None:
                    raise UnderstandingError(
                        f"{name}.{cname} references {ref.group(1)}, which does not exist"
                    )
                rcols = [ref.group(2)] if ref.group(2) else self.pk(rt)
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
        ctx_low = (tail + " " + body + " " + self.low).lower()
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
                found = self.r.table_named(c.name[:-3])
                if not found or len(self.pk(found[0])) != 1:
                    continue
                rt = found[0]
                rpk = self.pk(rt)[0]
                if c.name in inferred:
                    columns[i] = c.model_copy(update={"type": rt.column(rpk).type})
                    self.assumptions[:] = [
                        a for a in self.assumptions if not a.startswith(f"{name}.{c.name} typed")
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
            self.warnings.append(f"the new table {name} has no primary key")
        unique = [[c] for kind, c in extra_ops if kind == "unique"]
        ops: list = [
            P.CreateTable(
                table=name, columns=columns, primary_key=pk, unique=unique, foreign_keys=fks
            )
        ]
        # a trailing "Index order_id." / "index on a and b"
        for im in re.finditer(
            r"\b(?:index(?:ed)?|idx)\s+(?:on\s+)?(?:the\s+)?([a-z_][\w]*(?:\s*(?:,|and)\s*[a-z_][\w]*)*)",
            tail.lower() + " " + body.lower(),
        ):
            names = [
                x
                for x in re.split(r"\s*(?:,|and)\s*", im.group(1))
                if x in {c.name for c in columns}
            ]
            if names:
                ops.append(
                    P.CreateIndex(table=name, name=_idx_name(name, names, "idx"), keys=names)
                )
        return self.plan(f"Create table {name}", ops, f"create_{name}_table")

    # ------------------------------------------------------------ rename
    def rename(self) -> P.DraftPlan | None:
        m = re.search(
            r"\b(?:rename|renaming)\s+(?:the\s+)?(?:column\s+|table\s+)?[`'\"]?([a-z_][\w.]*)[`'\"]?(?:\s+(column|table|field))?(?:\s+(?:column|table))?\s*(?:on\s+|in\s+|of\s+)?(?:the\s+)?(?:([a-z_]\w*)\s+(?:table\s+)?)?(?:to|->|as|into|=>)\s+[`'\"]?([a-z_][\w]*)",
            self.low,
        ) or re.search(
            r"[`'\"]?([a-z_][\w.]*)[`'\"]?(?:\s+(column|table))?\s*(?:->|=>)\s*[`'\"]?([a-z_][\w]*)",
            self.low,
        )
        m3 = re.search(
            r"[`'\"]?([a-z_][\w.]*)[`'\"]?\s+should\s+be\s+called\s+[`'\"]?([a-z_]\w*)", self.low
        )
        if m is None and m3 is None:
            return None
        if m is not None and m.re.groups == 4:
            old, kind, owner, new = m.group(1), m.group(2), m.group(3), m.group(4)
        elif m is not None:
            old, kind, owner, new = m.group(1), m.group(2), None, m.group(3)
        else:
            old, kind, owner, new = m3.group(1), None, None, m3.group(2)
        new_at = (m or m3).end((m or m3).re.groups)
        new = self._new_name(new, new_at)
        is_table_phrase = (
            kind == "table"
            or re.search(rf"\b{re.escape(old)}\s+table\b", self.low)
            or re.search(r"\btable\s+only\b", self.low)
        )
        if "." in old:
            head, col = old.split(".", 1)
            tables = self.r.table_named(head)
            if not tables:
                raise UnderstandingError(f"no table {head} to rename a column of")
            t = tables[0]
            c = self.r.column_named(t, col)
            if c is None:
                raise UnderstandingError(
                    f"{t.name} has no column {col}",
                    [f"columns: {', '.join(x.name for x in t.columns)}"],
                )
            return self._rename_column(t, c, new)
        tables = self.r.table_named(old, fuzzy=False)
        if tables and (is_table_phrase or not self._column_anywhere(old)):
            t = tables[0]
            if self.snap.table(new):
                raise UnderstandingError(f"cannot rename {t.name} to {new}: that table exists")
            self.categories += ["rename_table"]
            return self.plan(
                f"Rename table {t.name} to {new}",
                [P.RenameTable(table=t.qualified_name, new_name=new)],
                f"rename_{t.name}_to_{new}",
            )
        # a column: of the named owner table, or of the subject
        t = None
        if owner:
            found = self.r.table_named(owner)
            t = found[0] if found else None
        if t is None:
            owners = [x for x in self.r.tables if self.r.column_named(x, old, fuzzy=False)]
            mentioned = {mm.table.qualified_name for mm in self.r.table_mentions()}
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
        c = self.r.column_named(t, old)
        if c is None:
            raise UnderstandingError(
                f"{t.name} has no column {old}",
                [f"columns: {', '.join(x.name for x in t.columns)}"],
            )
        return self._rename_column(t, c, new)

    def _column_anywhere(self, name: str) -> bool:
        return any(self.r.column_named(t, name, fuzzy=False) for t in self.r.tables)

    def _rename_column(self, t: Table, c: str, new: str) -> P.DraftPlan:
        if t.column(new):
            raise UnderstandingError(f"cannot rename {t.name}.{c} to {new}: that column exists")
        self.categories += ["rename_column"]
        self.warnings.append(
            f"code reading {t.name}.{c} breaks when this is applied: deploy code that uses {new} together with it"
        )
        return self.plan(
            f"Rename {t.name}.{c} to {new}",
            [P.RenameColumn(table=t.qualified_name, column=c, new_name=new)],
            f"rename_{t.name}_{c}_to_{new}",
        )

    # ------------------------------------------------------------ data migrations
    def split(self) -> P.DraftPlan | None:
        m = re.search(
            r"\bsplit\s+(?:the\s+)?(?:up\s+)?([a-z_][\w.]*)(?:\s+column)?(?:\s+(?:on|of|in)\s+(?:the\s+)?[a-z_]\w*)?\s+into\s+([^.;]+)",
            self.low,
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
        targets = [
            w for w in re.findall(r"[a-z_]\w*", m.group(2)) if w not in noise and not find_type(w)
        ]
        if len(targets) < 2:
            raise UnderstandingError(
                "could not read the names of the columns to split into", [m.group(0)]
            )
        m_groups = [m.group(1), *targets[:4]]
        self.categories += ["data_migration", "split_column", "add_column", "backfill"]
        src = m.group(1)
        if "." in src:
            t = self.r.table_named(src.split(".")[0])[0]
            src = src.split(".", 1)[1]
        else:
            t = self.r.subject_table(prefer_columns=[src])
        c = self.r.column_named(t, src)
        if c is None:
            raise UnderstandingError(f"{t.name} has no column {src} to split")
        news = m_groups[1:]
        sep_m = re.search(
            r"\b(?:on|by|at|before|after)\s+(?:the\s+)?(?:first\s+)?('[^']*'|comma|space|dash|hyphen|slash|@)",
            self.low,
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
            self.assumptions.append(f"{c} is split at the first space")
        coltype = t.column(c).type
        given = find_type(m.group(2))
        if given and given[0] not in ("serial", "bigserial"):
            coltype = normalize_type(given[0])
        ops: list = []
        for n in news:
            if t.column(n):
                raise UnderstandingError(f"{t.name}.{n} already exists")
            ops.append(
                P.AddColumn(table=t.qualified_name, column=P.ColumnDef(name=n, type=coltype))
            )
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
            ops.append(
                P.Backfill(table=t.qualified_name, column=n, value=e, where=f"{c} IS NOT NULL")
            )
        if self.has(r"\b(?:drop|remove|delete|replace|get\s+rid\s+of)\b"):
            ops.append(P.DropColumn(table=t.qualified_name, column=c))
            self.warnings.append(f"the downgrade restores {t.name}.{c} from {', '.join(news)} ")
            # reverse data: recompute the original from its parts
            ops[-1:-1] = []
            rev = f" || '{s}' || ".join(f"coalesce({n}, '')" for n in news)
            self._pending_reverse = (t, c, rev)
        else:
            self.assumptions.append(f"{t.name}.{c} is kept (say 'and drop {c}' to remove it)")
        plan = self.plan(f"Split {t.name}.{c} into {', '.join(news)}", ops, f"split_{t.name}_{c}")
        return _restore_dropped(plan, self)

    def merge(self) -> P.DraftPlan | None:
        m = re.search(
            r"\b(?:merge|combine|concatenate|join)\s+(?:the\s+)?([a-z_][\w.]*)\s*(?:,|and|\+|with)\s*([a-z_][\w.]*)(?:\s*(?:,|and)\s*([a-z_][\w.]*))?(?:\s+columns?)?\s+(?:(?:on|of|in)\s+(?:the\s+)?[a-z_]\w*\s+)?into\s+(?:a\s+single\s+|a\s+|one\s+|the\s+)?(?:new\s+)?([a-z_][\w.]*)",
            self.low,
        )
        if not m:
            return None
        self.categories += ["data_migration", "merge_columns", "add_column", "backfill"]
        parts = [x.split(".")[-1] for x in m.groups()[:3] if x]
        new = m.group(4).split(".")[-1]
        t = self.r.subject_table(prefer_columns=parts)
        cols = []
        for p_ in parts:
            c = self.r.column_named(t, p_)
            if c is None:
                raise UnderstandingError(f"{t.name} has no column {p_} to merge")
            cols.append(c)
        sep_m = re.search(
            r"\b(?:separated|joined)\s+(?:by|with)\s+(?:a\s+)?('[^']*'|comma|space|dash)", self.low
        )
        sep = " "
        if sep_m:
            sep = {"comma": ", ", "space": " ", "dash": "-"}.get(
                sep_m.group(1), sep_m.group(1).strip("'")
            )
        ops: list = []
        if not t.column(new):
            ops.append(
                P.AddColumn(table=t.qualified_name, column=P.ColumnDef(name=new, type="text"))
            )
        s = sep.replace("'", "''")
        ops.append(
            P.Backfill(
                table=t.qualified_name,
                column=new,
                value=f"NULLIF(concat_ws('{s}', {', '.join(cols)}), '')",
            )
        )
        if self.has(r"\b(?:drop|remove|delete|replace|get\s+rid\s+of)\b"):
            if len(cols) == 2:
                # the downgrade re-adds the columns empty: refill them from the merged one
                ops.append(
                    P.RawSQL(
                        upgrade="",
                        downgrade=(
                            f"UPDATE {qi_(t)} SET {cols[0]} = split_part({new}, '{s}', 1), "
                            f"{cols[1]} = NULLIF(substr({new}, strpos({new}, '{s}') + {len(sep)}), '') "
                            f"WHERE {new} IS NOT NULL"
                        ),
                        table=t.qualified_name,
                    )
                )
            for c in sorted(cols, key=lambda x: -t.column(x).position):
                ops.append(P.DropColumn(table=t.qualified_name, column=c))
        else:
            self.assumptions.append(
                f"{', '.join(cols)} are kept (say 'and drop them' to remove them)"
            )
        return self.plan(
            f"Merge {t.name}.{' + '.join(cols)} into {new}", ops, f"merge_{t.name}_{new}"
        )

    def timezone(self) -> P.DraftPlan | None:
        t = self.r.subject_table()
        cols = [c for c in self.columns_of(t) if type_family(t.column(c).type) == "timestamp"]
        for m_, col in self.r.dotted():
            if m_.table is t and self.r.column_named(t, col):
                cols = [self.r.column_named(t, col)]
        if not cols:
            return None
        zones = re.findall(r"\b([A-Z][a-z]+/[A-Z][A-Za-z_]+(?:/[A-Z][A-Za-z_]+)?)\b", self.request)
        src_m = re.search(
            r"\b(?:from|in|are|were|as)\s+(utc|[A-Z][a-z]+/[A-Za-z_/]+)\b", self.request, re.I
        )
        dst_m = re.search(r"\bto\s+(utc|[A-Z][a-z]+/[A-Za-z_/]+)\b", self.request, re.I)
        tz_from = src_m.group(1) if src_m else "UTC"
        tz_from = "UTC" if tz_from.lower() == "utc" else tz_from
        self.categories += ["data_migration", "timezone"]
        ops: list = []
        for c in cols:
            col = t.column(c)
            wants_tz = self.has(r"\btimestamptz\b|\bwith\s+time\s*zone\b|\btz[- ]aware\b")
            if (
                col.type.startswith("timestamp")
                and "without" in col.type
                and (wants_tz or not dst_m)
            ):
                src = tz_from if src_m else "UTC"
                if not src_m:
                    self.assumptions.append(f"existing {t.name}.{c} values are in UTC")
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
        return self.plan(
            f"Convert {t.name}.{', '.join(cols)} time zone",
            ops,
            f"convert_{t.name}_{cols[0]}_timezone",
        )

    def backfill(self) -> P.DraftPlan | None:
        # "backfill orders.customer_email from customers.email" / "populate X from Y"
        m = re.search(
            r"\b(?:backfill|populate|fill(?:\s+in)?|copy)\s+(?:the\s+)?(?:new\s+)?([a-z_][\w.]*)(?:\s+column)?(?:\s+(?:on|of|in)\s+(?:the\s+)?([a-z_]\w*))?\s+(?:from|with|using|into|to)\s+(?:the\s+)?(.+)$",
            self.low,
        )
        if not m:
            return None
        target, owner, rest = m.group(1), m.group(2), m.group(3)
        if target in ("it", "them", "this", "that"):
            return None  # "add X ... and backfill it with ...": the column another intent adds
        copy_into = re.search(r"\bcopy\b", self.low) and re.search(
            r"\b(?:into|to)\b", self.low[m.start(3) - 6 : m.start(3)]
        )
        if copy_into:
            # copy X into Y: target is Y
            src_word = target
            target = re.match(r"([a-z_][\w.]*)", rest).group(1)
            rest = src_word
        if "." in target:
            t = self.r.table_named(target.split(".")[0])[0]
            tcol = target.split(".", 1)[1]
        else:
            t = (
                (self.r.table_named(owner) or [None])[0]
                if owner
                else self.r.subject_table(prefer_columns=[target])
            )
            tcol = target
        c = self.r.column_named(t, tcol)
        if c is None:
            raise UnderstandingError(f"{t.name} has no column {tcol} to backfill")
        self.categories += ["data_migration", "backfill"]
        # source: other_table.column through a foreign key, or columns of the same table
        sm = re.match(r"([a-z_][\w]*)\.([a-z_]\w*)", rest)
        if sm and self.r.table_named(sm.group(1)) and self.r.table_named(sm.group(1))[0] is not t:
            src_t = self.r.table_named(sm.group(1))[0]
            src_c = self.r.column_named(src_t, sm.group(2))
            if src_c is None:
                raise UnderstandingError(f"{src_t.name} has no column {sm.group(2)}")
            fk = next(
                (
                    k
                    for k in t.constraints
                    if k.kind == "foreign_key" and k.ref_table == src_t.qualified_name
                ),
                None,
            )
            if fk is None:
                cand = [
                    col.name for col in t.columns if col.name in (f"{singular(src_t.name)}_id",)
                ]
                if not cand:
                    raise UnderstandingError(
                        f"no foreign key from {t.name} to {src_t.name} to join on",
                        [
                            f"foreign keys of {t.name}: {', '.join(k.name for k in t.constraints if k.kind == 'foreign_key') or 'none'}"
                        ],
                    )
                join = f"src.{self.pk(src_t)[0]} = dst.{cand[0]}"
            else:
                join = " AND ".join(
                    f"src.{rc} = dst.{lc}"
                    for lc, rc in zip(fk.columns, fk.ref_columns, strict=False)
                )
            op = P.Backfill(
                table=t.qualified_name,
                column=c,
                value=f"src.{src_c}",
                alias="dst",
                from_sql=f"{src_t.name} AS src",
                join_on=join,
                where=None if self.has(r"\ball\b|\boverwrite\b") else f"dst.{c} IS NULL",
            )
            return self.plan(
                f"Backfill {t.name}.{c} from {src_t.name}.{src_c}", [op], f"backfill_{t.name}_{c}"
            )
        src_cols = [x.column for x in self.r.column_mentions(t, start=m.start(3)) if x.column != c]
        if not src_cols:
            value = parse_value(rest, t.column(c).type)
            if value is None:
                raise UnderstandingError(
                    f"could not tell what to fill {t.name}.{c} with", [f"read: {rest!r}"]
                )
            op = P.Backfill(table=t.qualified_name, column=c, value=value, where=f"{c} IS NULL")
            return self.plan(f"Backfill {t.name}.{c}", [op], f"backfill_{t.name}_{c}")
        if len(src_cols) == 1:
            value = src_cols[0]
            if t.column(c).type != t.column(src_cols[0]).type:
                value = f"{src_cols[0]}::{t.column(c).type}"
        else:
            value = f"NULLIF(concat_ws(' ', {', '.join(src_cols)}), '')"
        op = P.Backfill(table=t.qualified_name, column=c, value=value, where=f"{c} IS NULL")
        return self.plan(
            f"Backfill {t.name}.{c} from {', '.join(src_cols)}", [op], f"backfill_{t.name}_{c}"
        )

    # ------------------------------------------------------------ enum
    def enum(self) -> P.DraftPlan | None:
        enums = {e.name: e for e in self.snap.enums.values()}
        # add a value to an existing enum
        m = re.search(
            r"\badd\s+(?:a\s+|the\s+)?(?:new\s+)?(?:value\s+|label\s+|status\s+|state\s+)?'?([\w -]+?)'?\s+(?:value\s+|label\s+|option\s+)?(?:to|in)\s+(?:the\s+)?([a-z_][\w.]*)",
            self.text,
            re.I,
        )
        if m:
            target = m.group(2).lower()
            e = enums.get(target)
            if e is None:
                t = self.r.table_named(target.split(".")[0]) if "." in target else []
                if t:
                    col = t[0].column(target.split(".")[1])
                    if col is not None:
                        e = enums.get(col.type.split(".")[-1])
            if e is None:
                # "to the status enum" / "to order_status"
                for name, en in enums.items():
                    if re.search(rf"\b{re.escape(name)}\b", self.low) or re.search(
                        rf"\b{re.escape(target)}\b", name
                    ):
                        e = en
                        break
            if e is not None:
                value = m.group(1).strip().strip("'\"")
                value = re.sub(r"^(?:value|label)\s+", "", value, flags=re.I)
                if value in e.labels:
                    raise UnderstandingError(f"enum {e.name} already has the value {value!r}")
                pos = re.search(r"\b(before|after)\s+'?([\w-]+)'?", self.text[m.end() :], re.I)
                self.categories += ["enum", "add_enum_value"]
                op = P.AddEnumValue(
                    name=f"{e.schema_name}.{e.name}" if e.schema_name != "public" else e.name,
                    value=value,
                )
                if pos and pos.group(2) in e.labels:
                    setattr(op, pos.group(1).lower(), pos.group(2))
                return self.plan(
                    f"Add {value!r} to enum {e.name}", [op], f"add_{snake(value)}_to_{e.name}"
                )
        t0 = self.r.subject_table(required=False)
        if t0 is not None and self._new_column_name(t0):
            return self.add_column()
        labels = _labels(self.r.text)
        vm = re.search(
            r"\b(?:with\s+(?:the\s+)?values?|values?\s*:|labels?\s*:?)\s+(.+?)(?:\s*\(in\s+that\s+order\)|\s+in\s+that\s+order|[.;]\s|$)",
            self.r.text,
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
        t = self.r.subject_table(required=False)
        col = None
        if t is not None:
            cols = [c for c in self.columns_of(t) if type_family(t.column(c).type) == "text"]
            col = cols[0] if len(cols) == 1 else None
            if len(cols) > 1:
                raise AmbiguousRequest(
                    f"more than one column of {t.name} could become the enum", cols
                )
        name_m = re.search(
            r"\b(?:enum|type)\s+(?:type\s+)?(?:named\s+|called\s+)?[`'\"]?([a-z_]\w*)", self.low
        )
        ename = (
            name_m.group(1)
            if name_m
            and name_m.group(1) not in ("with", "of", "for", "type", "values", "that", "and")
            else None
        )
        if ename is None:
            ename = f"{singular(t.name)}_{col}" if t is not None and col else None
        if ename is None:
            raise UnderstandingError("could not tell the name of the enum type")
        if ename in enums:
            raise UnderstandingError(f"enum {ename} already exists")
        self.categories += ["enum", "create_enum"]
        ops: list = [P.CreateEnum(name=ename, labels=labels)]
        if t is not None and col:
            column = t.column(col)
            self.categories += ["type_change"]
            using = f"{col}::text::{ename}"
            if self.has(
                r"\bnormali[sz]|\bmess|\bclean|\binconsistent|\bmixed\s+case|\bvariants?\b"
            ):
                using = f"replace(lower(btrim({col})), ' ', '_')::{ename}"
                self.categories += ["data_migration"]
                self.assumptions.append(
                    "existing values are normalised (lower, btrim, spaces to '_') before the cast"
                )
            ops.append(
                P.AlterColumnType(
                    table=t.qualified_name,
                    column=col,
                    new_type=ename,
                    using=using,
                    reverse_using=f"{col}::text::{column.type}"
                    if column.type != "text"
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
                    self.assumptions.append(f"check {k.name} is replaced by the enum type")
            return self.plan(f"Make {t.name}.{col} an enum {ename}", ops, f"{t.name}_{col}_enum")
        return self.plan(f"Create enum type {ename}", ops, f"create_{ename}_enum")

    # ------------------------------------------------------------ columns
    def _new_column_name(self, t: Table) -> tuple[str, int] | None:
        # table.new_column after an add/new verb
        for m, col in self.r.dotted():
            if (
                m.table is t
                and not t.column(col)
                and re.search(
                    r"\b(?:add|adding|new|need|needs|introduce|create)\b", self.low[: m.start]
                )
            ):
                return self._new_name(snake(col), m.end), m.end
        phrase = self._noun_phrase_name(t)
        if phrase is not None:
            return phrase
        pats = [
            r"\badd(?:ing)?\s+(?:a\s+|an\s+|the\s+)?(?:new\s+)?(?:nullable\s+|optional\s+|required\s+|non-null\s+)?(?:column|field)\s+(?:called\s+|named\s+)?[`'\"]?([a-z_][\w]*)",
            r"\b(?:add(?:ing)?|need(?:s)?|new|want|introduce|store|track|create)\s+(?:a\s+|an\s+|the\s+)?(?:new\s+)?(?:nullable\s+|optional\s+|required\s+|non-null\s+)?[`'\"]?([a-z_][\w]*(?:\s+[a-z_][\w]*)?)[`'\"]?\s+(?:column|field|attribute)\b",
            # "documents need an archived flag": the flag is the column's type (boolean)
            r"\b(?:add(?:ing)?|need(?:s)?|new|want|introduce|store|track)\s+(?:a\s+|an\s+|the\s+)?(?:new\s+)?[`'\"]?([a-z_][\w]*)[`'\"]?\s+(?=flag\b)",
            r"\b(?:column|field)\s+(?:called\s+|named\s+)?[`'\"]([a-z_][\w]*)[`'\"]",
            r"\b(?:column|field)\s+(?:called\s+|named\s+)[`'\"]?([a-z_][\w]*)",
            r"\badd(?:ing)?\s+(?:a\s+|an\s+)?(?:new\s+)?(?:nullable\s+|optional\s+)?[`'\"]?([a-z_][\w]*)[`'\"]?\s+(?:to|on)\s+(?:the\s+)?[a-z_]",
            r"\b(?:add|adding)\s+([a-z_]\w*)\s*\(",
            r"\b(?:new|add|adding)\b[^.;]{0,40}?\b(?:column|field)\s+([a-z_]\w*)",
            r"\b(?:add|adding)\s+(?:a\s+|an\s+)?(?:new\s+)?(?:nullable\s+|optional\s+)?([a-z_]\w*)\s+(?=[a-z(])",
        ]
        bad = {
            "index",
            "constraint",
            "check",
            "default",
            "foreign",
            "unique",
            "extension",
            "enum",
            "type",
            "primary",
            "trigger",
            "table",
        }
        for p in pats:
            for m in re.finditer(p, self.r.text, re.I):
                raw = m.group(1).strip().lower()
                words_ = raw.split()
                if len(words_) == 2 and find_type(words_[0]):
                    raw = words_[1]  # "a boolean archived column"
                elif len(words_) == 2 and (words_[0] in STOP or find_type(words_[1])):
                    raw = words_[1] if words_[0] in STOP else words_[0]
                name = snake(raw)
                if (
                    name in STOP
                    or name in bad
                    or (find_type(name) and find_type(name)[2] == len(name))
                ):
                    continue
                if self.snap.table(name) and not t.column(name):
                    continue
                if p == pats[-1]:
                    # "add is_verified bool ...": the name must be followed by a type
                    after = self.low[m.end(1) : m.end(1) + 40]
                    ft = find_type(after)
                    if not ft or ft[1] > 3:
                        continue
                return self._new_name(name, m.end(1)), m.end(1)
        return None

    def _noun_phrase_name(self, t: Table) -> tuple[str, int] | None:
        """A new column named by plain words whose last word is also a type name: "add
        billing interval to plans", "add an expected delivery date to parcels". The words
        are the name (billing_interval, expected_delivery_date), never `billing` of type
        interval; its type then comes from the name's conventions or is asked for."""
        m = re.search(
            r"\b(?:add|introduce|store|track)\s+(?:a\s+|an\s+|the\s+)?(?:new\s+)?"
            r"(?:nullable\s+|optional\s+|required\s+)?((?:[a-z][a-z0-9]*\s+){1,3}?)"
            rf"({NOUN_TYPES})\s+(?:column\s+|field\s+)?(?:to|on|in|for)\s+(?:the\s+)?([a-z_][\w.]*)",
            self.low,
        )
        if not m:
            return None
        words_ = m.group(1).split()
        if any(w in STOP or find_type(w) for w in words_):
            return None
        if t not in self.r.table_named(m.group(3).split(".")[-1]):
            return None
        name = snake(" ".join([*words_, m.group(2)]))
        self._phrase_name = name
        return self._new_name(name, m.end(2)), m.end(2)

    def _maybe_add_column(self) -> P.DraftPlan | None:
        try:
            t = self.r.subject_table()
        except UnderstandingError:
            return None
        if self._new_column_name(t) is None:
            return None
        return self.add_column()

    def add_column(self) -> P.DraftPlan | None:
        t = self.r.subject_table()
        found = self._new_column_name(t)
        if found is None:
            return None
        name, end = found
        if t.column(name):
            raise UnderstandingError(f"{t.name}.{name} already exists")
        self.categories += ["add_column"]
        rest = self.r.text[end:]
        low_rest = rest.lower()
        ops: list = []
        enums = {e.name: e for e in self.snap.enums.values()}
        # an enum type: existing, or created here ("as a Postgres enum type called x: a / b / c")
        typ_text = None
        if re.search(r"\benum\b", self.low):
            nm = re.search(
                r"\benum(?:\s+type)?\s+(?:called\s+|named\s+)?[`'\"]?([a-z_]\w*)", self.low
            )
            ename = (
                nm.group(1)
                if nm and nm.group(1) not in ("type", "with", "of", "called", "named")
                else f"{singular(t.name)}_{name}"
            )
            if ename in enums:
                typ_text = ename
            else:
                labels = _labels(self.r.text)
                if not labels:
                    raise UnderstandingError(
                        "found no enum values in the request",
                        ["write them as 'a', 'b', 'c' or a / b / c"],
                    )
                ops.append(P.CreateEnum(name=ename, labels=labels))
                typ_text = ename
                self.categories += ["enum", "create_enum"]
        for ename in enums:
            if typ_text is None and re.search(rf"\b{re.escape(ename)}\b", low_rest):
                typ_text = ename
        typ = None if typ_text else find_type(rest[:80])
        if (
            typ_text is None
            and typ is None
            and len(find_types(self.low)) == 1
            and getattr(self, "_phrase_name", None) != name  # its type word is its name
        ):
            typ = find_type(self.low)
        # <thing>_id where <things>.id exists: the referenced key's type, and the foreign key
        key_of = self._referenced_by_name(t, name)
        inferred_fk = None
        if key_of is not None:
            rt, rpk = key_of
            rtype = rt.column(rpk).type
            given = typ_text or (normalize_type(typ[0]) if typ else None)
            if given is None:
                typ_text = rtype
                inferred_fk = rt
                self.assumptions.append(
                    f"{t.name}.{name} references {rt.name}.{rpk}, so it is {rtype} with a foreign key"
                )
            elif type_family(given) != type_family(rtype) and given not in enums:
                raise UnderstandingError(
                    f"{t.name}.{name} reads as a reference to {rt.name}.{rpk}, which is {rtype}, "
                    f"but the request types it {given}",
                    [f"{rt.name}.{rpk} is {rtype}"],
                    f"say 'add {name} {rtype} to {t.name}' for the reference, or give the column "
                    "another name",
                )
        if typ_text is None and typ is None:
            typ_text = _infer_type(name, self.snap)
            if typ_text is None:
                raise UnderstandingError(
                    f"understood: add a column {name} to {t.name}; missing: its type (the name "
                    "does not say it)",
                    None,
                    f"say the type, e.g. 'add {name} text to {t.name}' (or bigint, boolean, "
                    "timestamptz, numeric(12,2), interval, 'up to 32 characters')",
                )
            self.assumptions.append(f"{t.name}.{name} typed {typ_text} (inferred from its name)")
        elif typ_text is None:
            typ_text = typ[0]
        if typ_text in ("serial", "bigserial"):
            typ_text = {"serial": "integer", "bigserial": "bigint"}[typ_text]
        not_null = bool(
            re.search(
                r"\bnot\s+null\b|\brequired\b|\bnon-?null(?:able)?\b|\bmandatory\b|\bmust\s+be\s+set\b",
                self.low,
            )
        ) and not re.search(r"(?<!non-)(?<!non)\bnullable\b|\boptional\b", self.low)
        default = None
        dm = re.search(
            r"\bdefault(?:s|ing)?(?:\s+(?:it|value))?\s*(?:to|of|=|:|is|should\s+be)?\s+(.+?)(?:$|[.;]\s|,\s|\s+and\s|\))",
            self.r.text + " ",
            re.I,
        )
        if dm:
            default = parse_value(
                dm.group(1), normalize_type(typ_text) if typ_text not in enums else None
            )
            if default is None:
                raise UnderstandingError(f"could not read the default value {dm.group(1)!r}")
            if typ_text in enums or any(isinstance(o, P.CreateEnum) for o in ops):
                default = default if "'" in default else f"'{default}'"
        elif fm := re.search(
            r"\b(?:existing|old|current)\s+\w+\s+(?:are|is|should\s+be|get|become)\s+(?:all\s+)?('[^']*'|\S+)",
            self.r.text,
            re.I,
        ):
            default = parse_value(fm.group(1), normalize_type(typ_text))
        if typ_text in EXTENSION_TYPES:
            ops = self.extension_ops(EXTENSION_TYPES[typ_text]) + ops
        elif m_ext := re.search(
            r"\b(?:enable|install|create)\s+(?:the\s+)?([a-z_]\w*)\s+extension\b", self.low
        ):
            ops = self.extension_ops(m_ext.group(1)) + ops
        rows = self.facts.row_count(t.qualified_name)
        # a value for existing rows: "= a + b", "filled in from customers.email", "backfill ... with"
        fill = None
        em = re.match(r"\s*(?:\([^)]*\)\s*)?(?:=|:=|as)\s*([^.;,]+?)(?:[.;,]\s|$)", rest + " ")
        if em and not re.match(r"\s*(?:a|an|the)\b", em.group(1)):
            fill = self._expression(t, em.group(1))
        src = re.search(
            r"\b(?:filled|populated|backfilled|copied|taken)\s+(?:in\s+)?(?:from|with)\s+(?:the\s+)?([a-z_]\w*)\.([a-z_]\w*)",
            self.low,
        )
        col = P.ColumnDef(name=name, type=typ_text, nullable=not not_null, default=default)
        if fill is not None or src is not None:
            ops.append(
                P.AddColumn(
                    table=t.qualified_name, column=col.model_copy(update={"nullable": True})
                )
            )
            if src is not None:
                ops.append(self._join_backfill(t, name, src.group(1), src.group(2)))
            else:
                ops.append(
                    P.Backfill(
                        table=t.qualified_name, column=name, value=fill, where=f"{name} IS NULL"
                    )
                )
            self.categories += ["data_migration", "backfill"]
            if not_null:
                ops.append(P.SetNotNull(table=t.qualified_name, column=name))
                self.categories += ["not_null"]
                self.warnings.append(
                    f"rows written between the backfill and SET NOT NULL must set {name} (or the last step fails)"
                )
        else:
            if not col.nullable and default is None and rows > 0:
                raise UnderstandingError(
                    f"{t.name} has ~{rows:,} rows, so a NOT NULL {name} needs a default or a backfill value",
                    ["say e.g. 'default 0' or 'existing rows get ...'"],
                )
            ops.append(P.AddColumn(table=t.qualified_name, column=col))
        # references / unique / index attached to the new column
        ref = re.search(
            r"\b(?:references?|referencing|foreign\s+key\s+(?:to|on)|fk\s+to|points?\s+(?:to|at)|pointing\s+(?:to|at)|linked\s+to)\s+(?:the\s+)?(?:another\s+|an?\s+|other\s+)?([a-z_][\w.]*)",
            self.low,
        )
        if (
            ref
            or inferred_fk is not None
            or (name.endswith("_id") and self.has(r"\bforeign\s+key|\bfk\b"))
        ):
            rt_name = ref.group(1).split("(")[0] if ref else plural(name[:-3])
            rt = (
                inferred_fk
                if inferred_fk is not None and not ref
                else (self.r.table_named(rt_name.split(".")[0]) or [None])[0]
            )
            if rt is None:
                raise UnderstandingError(
                    f"{t.name}.{name} references {rt_name}, which does not exist"
                )
            self.categories += ["foreign_key"]
            ops.append(
                P.AddForeignKey(
                    table=t.qualified_name,
                    name=f"{t.name}_{name}_fkey",
                    columns=[name],
                    ref_table=rt.qualified_name,
                    ref_columns=self.pk(rt),
                    on_delete=ref_action(self.low),
                )
            )
        if re.search(r"\bunique\b", low_rest):
            self.categories += ["unique"]
            ops.append(
                P.AddUnique(table=t.qualified_name, name=f"{t.name}_{name}_key", columns=[name])
            )
        elif re.search(r"\bindex(?:ed)?\b|\bidx\b", self.low):
            self.categories += ["index"]
            ops.append(
                P.CreateIndex(
                    table=t.qualified_name, name=_idx_name(t.name, [name], "idx"), keys=[name]
                )
            )
        return self.plan(f"Add column {t.name}.{name}", ops, f"add_{name}_to_{t.name}")

    def _referenced_by_name(self, t: Table, name: str) -> tuple[Table, str] | None:
        """(table, key) a new `<thing>_id` column of `t` refers to by its name: a table
        `<things>` (or `<thing>`) with a one-column primary key, not `t` itself."""
        if not name.endswith("_id") or len(name) <= 3:
            return None
        found = self.r.table_named(name[:-3], fuzzy=False)
        if not found or found[0] is t:
            return None
        pk = self.pk(found[0])
        return (found[0], pk[0]) if len(pk) == 1 else None

    def _expression(self, t: Table, text: str) -> str:
        """An SQL expression over `t`'s columns written in the request (`a + b`, `lower(x)`)."""
        expr = text.strip().strip("`").strip()
        idents = re.findall(r"\b([a-z_][\w]*)\b(?!\s*\()", expr.lower())
        unknown = [
            i
            for i in idents
            if not t.column(i)
            and i
            not in (
                "and",
                "or",
                "not",
                "null",
                "coalesce",
                "true",
                "false",
                "text",
                "integer",
                "bigint",
            )
        ]
        if unknown or not idents:
            raise UnderstandingError(
                f"could not read the expression {expr!r} over the columns of {t.name}",
                [f"unknown names: {', '.join(unknown)}" if unknown else "no column named"],
            )
        return expr

    def _join_backfill(self, t: Table, column: str, src_table: str, src_col: str) -> P.Backfill:
        found = self.r.table_named(src_table)
        if not found:
            raise UnderstandingError(f"no table {src_table} to copy from")
        src_t = found[0]
        src_c = self.r.column_named(src_t, src_col)
        if src_c is None:
            raise UnderstandingError(f"{src_t.name} has no column {src_col}")
        fk = next(
            (
                k
                for k in t.constraints
                if k.kind == "foreign_key" and k.ref_table == src_t.qualified_name
            ),
            None,
        )
        if fk is not None:
            join = " AND ".join(
                f"src.{rc} = dst.{lc}" for lc, rc in zip(fk.columns, fk.ref_columns, strict=False)
            )
        else:
            cand = f"{singular(src_t.name)}_id"
            if not t.column(cand) or len(self.pk(src_t)) != 1:
                raise UnderstandingError(
                    f"no foreign key from {t.name} to {src_t.name} to join on",
                    [
                        f"foreign keys of {t.name}: {', '.join(k.name for k in t.constraints if k.kind == 'foreign_key') or 'none'}"
                    ],
                )
            join = f"src.{self.pk(src_t)[0]} = dst.{cand}"
        return P.Backfill(
            table=t.qualified_name,
            column=column,
            value=f"src.{src_c}",
            alias="dst",
            from_sql=f"{qi_(src_t)} AS src",
            join_on=join,
            where=f"dst.{column} IS NULL",
        )

    def drop(self) -> P.DraftPlan | None:
        # an index or constraint by name
        for t in self.r.tables:
            for ix in t.indexes:
                if re.search(rf"\b{re.escape(ix.name.lower())}\b", self.low):
                    self.categories += ["drop_index"]
                    if ix.constraint:
                        return self.plan(
                            f"Drop constraint {ix.constraint}",
                            [P.DropConstraint(table=t.qualified_name, name=ix.constraint)],
                        )
                    return self.plan(
                        f"Drop index {ix.name}",
                        [P.DropIndex(table=t.qualified_name, name=ix.name)],
                        f"drop_{ix.name}",
                    )
            for k in t.constraints:
                if k.kind != "not_null" and re.search(
                    rf"\b{re.escape(k.name.lower())}\b", self.low
                ):
                    self.categories += ["drop_constraint"]
                    return self.plan(
                        f"Drop constraint {k.name}",
                        [P.DropConstraint(table=t.qualified_name, name=k.name)],
                        f"drop_{k.name}",
                    )
        dotted = self.r.dotted()
        if self.has(r"\btable\b") and not dotted:
            t = self.r.subject_table()
            if self.has(r"\b(?:column|field)s?\b"):
                return self._drop_column(t)
            return self._drop_table(t)
        t = self.r.subject_table()
        cols = self.columns_of(t)
        if not cols and not dotted:
            return (
                self._drop_table(t)
                if self.has(
                    rf"\b(?:drop|remove|delete)\s+(?:the\s+)?(?:old\s+|legacy\s+|unused\s+)?{re.escape(t.name)}\b"
                )
                else None
            )
        return self._drop_column(t)

    def drop_index_in_words(self) -> P.DraftPlan | None:
        """An index to drop described by words, not its name: "drop stale audit index",
        "drop the redundant tracking_ref index on parcels". Every content word must be in
        the index's name, keys or table; "redundant"/"duplicate" keeps the indexes another
        index of the same table already covers (same leading keys). One index, or a
        refusal naming the candidates."""
        m = self.search(
            r"\b(?:drop|remove|delete|get\s+rid\s+of)\b(.{0,80}?)\b(?:index|indexes|idx)\b(?:\s+(?:on|of|for|in)\s+(.{0,60}))?"
        )
        if not m:
            return None
        if any(
            re.search(rf"\b{re.escape(ix.name.lower())}\b", self.low)
            for t in self.r.tables
            for ix in t.indexes
        ) or any(
            k.kind != "not_null" and re.search(rf"\b{re.escape(k.name.lower())}\b", self.low)
            for t in self.r.tables
            for k in t.constraints
        ):
            return self.drop()  # named: the plain drop
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
        for t in self.r.tables:
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
                    + ", ".join(
                        ix.name for t in self.r.tables for ix in t.indexes if not ix.primary
                    )[:400]
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
        self.assumptions.append(f"the index meant is {ix.name} on {t.name} ({', '.join(ix.keys)})")
        return self.plan(
            f"Drop index {ix.name}",
            [P.DropIndex(table=t.qualified_name, name=ix.name)],
            f"drop_{ix.name}",
        )

    def _drop_table(self, t: Table) -> P.DraftPlan:
        self.categories += ["drop_table"]
        ops: list = []
        for other in self.r.tables:
            for k in other.constraints:
                if k.kind == "foreign_key" and k.ref_table == t.qualified_name and other is not t:
                    ops.append(P.DropConstraint(table=other.qualified_name, name=k.name))
                    self.warnings.append(
                        f"foreign key {other.name}.{k.name} to {t.name} is dropped with it"
                    )
        ops.append(P.DropTable(table=t.qualified_name))
        self.warnings.append(
            f"dropping {t.name} deletes its rows; the downgrade recreates it empty"
        )
        return self.plan(f"Drop table {t.name}", ops, f"drop_{t.name}_table")

    def _drop_column(self, t: Table) -> P.DraftPlan:
        self.categories += ["drop_column"]
        cols = []
        for m, col in self.r.dotted():
            if m.table is t:
                c = self.r.column_named(t, col)
                if c is None:
                    raise UnderstandingError(
                        f"{t.name} has no column {col}",
                        [f"columns: {', '.join(x.name for x in t.columns)}"],
                    )
                cols.append(c)
        if not cols:
            cols = self.columns_of(t)
            # only the columns named right after the verb
            vm = self.search(r"\b(?:drop|remove|delete|get\s+rid\s+of)\b")
            cols = [
                m.column for m in self.r.column_mentions(t, start=vm.end() if vm else 0)
            ] or cols
            cols = list(dict.fromkeys(cols))
        if not cols:
            raise UnderstandingError(f"could not tell which column of {t.name} to drop")
        if len(cols) > 1 and not self.has(r"\band\b|,"):
            raise AmbiguousRequest(f"more than one column of {t.name} could be meant", cols)
        ops = [P.DropColumn(table=t.qualified_name, column=c) for c in cols]
        for c in cols:
            if any(c in k.columns for k in t.constraints if k.kind == "primary_key"):
                raise UnderstandingError(
                    f"{t.name}.{c} is the primary key; drop it with --desired or by hand"
                )
        self.warnings.append(
            f"dropping {', '.join(f'{t.name}.{c}' for c in cols)} loses its data; deploy code that no longer reads it first"
        )
        return self.plan(
            f"Drop {', '.join(f'{t.name}.{c}' for c in cols)}",
            ops,
            f"drop_{t.name}_{'_'.join(cols)}",
        )

    # ------------------------------------------------------------ index
    def index(self, force_unique: bool = False) -> P.DraftPlan | None:
        if (
            not force_unique
            and self.has(
                r"\bunique\s+constraint\b|\bconstraint\b[^.]*\bnot\s+(?:just\s+)?an?\s+index\b"
            )
            and not self.has(r"\blower\(|\bcase[- ]insensitiv|\bignoring\s+case\b")
        ):
            return self.unique()
        # a query pasted in the request: derive keys and predicate from it
        q = re.search(r"\bselect\b.+?\bfrom\s+([a-z_][\w.]*)(.*)", self.low, re.S)
        t = None
        keys: list[str] = []
        where = None
        if q and self.r.table_named(q.group(1)):
            t = self.r.table_named(q.group(1))[0]
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
                if re.match(r"'[^']*'$|\d+$|true|false|null", cm.group(3).strip()) and self.has(
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
                        w.upper()
                        for w in words_[1:]
                        if w in ("asc", "desc", "nulls", "first", "last")
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
            t = self.r.subject_table()
            om2 = re.search(
                r"\border\s+by\s+((?:[a-z_]\w*(?:\s+(?:asc|desc))?(?:\s+nulls\s+(?:first|last))?\s*,\s*)*[a-z_]\w*(?:\s+(?:asc|desc))?(?:\s+nulls\s+(?:first|last))?)",
                self.low,
            )
            if om2:
                for piece in om2.group(1).split(","):
                    words_ = piece.split()
                    if words_ and t.column(words_[0]):
                        mods = " ".join(w.upper() for w in words_[1:])
                        keys.append(words_[0] if mods in ("", "ASC") else f"{words_[0]} {mods}")
        self.categories += ["index"]
        if not keys:
            # explicit "(a, b)" list
            pm = re.search(r"\(\s*([a-z_]\w*(?:\s*,\s*[a-z_]\w*)+)\s*\)", self.low)
            if pm and all(t.column(c.strip()) for c in pm.group(1).split(",")):
                keys = [c.strip() for c in pm.group(1).split(",")]
        expr_keys: list[str] = []
        em = re.search(
            r"\b(lower|upper|date|coalesce|md5|left|date_trunc)\s*\(([^()]*)\)", self.low
        )
        if em:
            inner = em.group(2)
            cols = [c for c in re.findall(r"[a-z_]\w*", inner) if t.column(c)]
            if cols:
                expr_keys = [f"{em.group(1)}({inner.strip()})"]
        ci = self.has(
            r"\bcase[- ]insensitiv|\bignoring\s+case\b|\bregardless\s+of\s+case\b|\bany\s+case\b"
        )
        if not keys and not expr_keys:
            dotted = [self.r.column_named(t, c) for m, c in self.r.dotted() if m.table is t]
            keys = [c for c in dotted if c] or self.columns_of(t)
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
            self.categories += ["expression_index"]
        # method
        method = "btree"
        opclasses: dict[str, str] = {}
        for name in ("brin", "gin", "gist", "hash", "spgist"):
            if self.has(rf"\b{name}\b"):
                method = name
        key_types = {k: t.column(k).type for k in keys if t.column(k)}
        if (
            method == "btree"
            and any(tp in ("jsonb", "tsvector") or tp.endswith("[]") for tp in key_types.values())
            and not self.has(r"\bbtree\b")
        ):
            method = "gin"
        # jsonb_path_ops only when asked for: the default jsonb_ops serves @> too, and the
        # key-exists operators (?, ?|, ?&) a later query may need
        if method == "gin" and self.has(r"jsonb_path_ops|path[_ ]ops|@>\s*only|containment\s+only"):
            opclasses = {k: "jsonb_path_ops" for k, tp in key_types.items() if tp == "jsonb"}
        if method != "btree":
            self.categories += [method]
        include = []
        im = re.search(
            r"\binclud(?:es|ing|e)\b\s*\(?\s*([a-z_]\w*(?:\s*(?:,|\band\b)\s*[a-z_]\w*)*)", self.low
        )
        if im:
            include = [
                c.strip() for c in re.split(r",|\band\b", im.group(1)) if t.column(c.strip())
            ]
            keys = [k for k in keys if k not in include]
            all_keys = expr_keys or keys
        if where is None and force_unique:
            where = self._predicate(t)
            if where:
                pcol = where.split()[0]
                keys = [k for k in keys if k != pcol]
                all_keys = expr_keys or keys
        if where is None:
            wm = re.search(r"\bwhere\s+(.+?)(?:$|[.;]\s|`)", self.text, re.I | re.S)
            if wm and not q:
                where = wm.group(1).strip().rstrip(".")
                if not any(t.column(c) for c in re.findall(r"[a-z_]\w*", where.lower())):
                    raise UnderstandingError(
                        f"the index predicate {where!r} names no column of {t.name}"
                    )
            elif (soft := self._soft_delete_predicate(t)) is not None:
                where = soft
            elif self.has(r"\bpartial\b"):
                pm2 = re.search(
                    r"\b(?:only|just)\s+(?:for\s+|the\s+|on\s+)?(?:rows\s+)?(?:where\s+)?([a-z_]\w*)\s+(?:is\s+)?(not\s+null|null|true|false|=\s*'[^']*')",
                    self.low,
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
            self.categories += ["partial_index"]
            in_where = {c for c in re.findall(r"[a-z_]\w*", where.lower()) if t.column(c)}
            rest_keys = [k for k in keys if k.split()[0] not in in_where]
            if rest_keys and not expr_keys:
                keys = rest_keys
                all_keys = keys
        unique = force_unique or self.has(r"\bunique\b|\buniqueness\b|\bno\s+duplicates?\b")
        if unique:
            self.categories += ["unique"]
        suffix = "key" if unique else "idx"
        parts = [
            re.sub(r"\W+", "_", re.sub(r"\s+(?:asc|desc|nulls\s+\w+)\b", "", k, flags=re.I)).strip(
                "_"
            )
            for k in all_keys
        ]
        if where:
            wv = re.findall(r"'([^']*)'", where)
            parts = ([snake(wv[0])] if wv else []) + parts
        name = self.explicit_name() or _idx_name(t.name, parts, suffix)
        taken = {ix.name for x in self.snap.tables.values() for ix in x.indexes}
        if not self.explicit_name() and name in taken:  # PostgreSQL's own way: idx1, idx2
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
            ops += self.extension_ops("pg_trgm")
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
        return self.plan(
            f"Add {'unique ' if unique else ''}{method if method != 'btree' else ''} index on {t.name} ({', '.join(all_keys)})".replace(
                "  ", " "
            ),
            ops,
            f"add_{name}",
        )

    # ------------------------------------------------------------ constraints
    def foreign_key(self) -> P.DraftPlan | None:
        t = self.r.subject_table()
        self.categories += ["foreign_key"]
        cols = [c for c in self.columns_of(t) if c not in self.pk(t)]
        for m, col in self.r.dotted():
            if m.table is t and self.r.column_named(t, col):
                cols = [self.r.column_named(t, col)]
                break
        ref_t = None
        rm = re.search(
            r"\b(?:references?|referencing|to|at)\s+(?:the\s+)?([a-z_][\w.]*)",
            self.low[self.search(r"\bforeign\s+key|\bfk\b|\breferenc|\bpoint|\blink").start() :],
        )
        if rm:
            cand = rm.group(1)
            found = self.r.table_named(
                cand.split(".")[0]
                if "." in cand and not self.r._is_schema(cand.split(".")[0])
                else cand
            )
            if found and found[0] is not t:
                ref_t = found[0]
        if ref_t is None:
            # "add a carrier reference to parcels": the thing named before the word
            tm = self.search(
                r"\b([a-z_]\w*)\s+(?:references?|link|fk|foreign\s+key|relation(?:ship)?)\b"
            )
            if tm and tm.group(1) not in STOP:
                found = self.r.table_named(tm.group(1), fuzzy=False)
                if found and found[0] is not t:
                    ref_t = found[0]
        if not cols:
            if ref_t is not None:
                guess = f"{singular(ref_t.name)}_id"
                if t.column(guess):
                    cols = [guess]
                elif self.has(r"\b(?:add|introduce|create|new)\b") and len(self.pk(ref_t)) == 1:
                    # a new reference: the column it needs, typed like the key it points at
                    rpk = self.pk(ref_t)[0]
                    rtype = ref_t.column(rpk).type
                    self.assumptions.append(
                        f"a new column {t.name}.{guess} ({rtype}, like {ref_t.name}.{rpk}) holds the reference"
                    )
                    return self.plan(
                        f"Add {t.name}.{guess} referencing {ref_t.name}.{rpk}",
                        [
                            P.AddColumn(
                                table=t.qualified_name, column=P.ColumnDef(name=guess, type=rtype)
                            ),
                            P.AddForeignKey(
                                table=t.qualified_name,
                                name=f"{t.name}_{guess}_fkey",
                                columns=[guess],
                                ref_table=ref_t.qualified_name,
                                ref_columns=[rpk],
                                on_delete=ref_action(self.low),
                            ),
                        ],
                        f"add_{t.name}_{guess}_fkey",
                    )
            if not cols:
                raise UnderstandingError(
                    f"could not tell which column of {t.name} gets the foreign key"
                )
        cols = [
            c for c in cols if ref_t is None or not (ref_t.column(c) and c in self.pk(ref_t))
        ] or cols
        if len(cols) > 1:
            cols = [c for c in cols if c.endswith("_id")] or cols
            if len(cols) > 1:
                raise AmbiguousRequest(
                    f"more than one column of {t.name} could get the foreign key", cols
                )
        col = cols[0]
        if ref_t is None and col.endswith("_id"):
            found = self.r.table_named(col[:-3])
            ref_t = found[0] if found else None
        if ref_t is None:
            raise UnderstandingError(f"could not tell which table {t.name}.{col} references")
        ref_cols = self.pk(ref_t)
        if len(ref_cols) != 1:
            raise UnderstandingError(f"{ref_t.name} has no single-column primary key to reference")
        for k in t.constraints:
            if (
                k.kind == "foreign_key"
                and k.columns == [col]
                and k.ref_table == ref_t.qualified_name
            ):
                raise UnderstandingError(
                    f"{t.name}.{col} already references {ref_t.name} ({k.name})"
                )
        name = self.explicit_name() or f"{t.name}_{col}_fkey"
        ops: list = [
            P.AddForeignKey(
                table=t.qualified_name,
                name=name,
                columns=[col],
                ref_table=ref_t.qualified_name,
                ref_columns=ref_cols,
                on_delete=ref_action(self.low),
            )
        ]
        has_index = any(ix.keys[:1] == [col] for ix in t.indexes)
        if not has_index and (
            self.facts.large(t.qualified_name)
            or self.has(r"\b(?:and|also|plus)\s+(?:an?\s+)?index\b|\bindex\s+it\b")
        ):
            if not self.has(r"\bindex\s+it\b|\bindex\b"):
                self.assumptions.append(
                    f"an index on {t.name}.{col}: deletes and updates in {ref_t.name} look up "
                    f"referencing rows by it, and {t.name} is large"
                )
            ops.append(
                P.CreateIndex(
                    table=t.qualified_name, name=_idx_name(t.name, [col], "idx"), keys=[col]
                )
            )
        ctype = t.column(col).type
        rtype = ref_t.column(ref_cols[0]).type
        if type_family(ctype) != type_family(rtype):
            raise UnderstandingError(
                f"{t.name}.{col} is {ctype} but {ref_t.name}.{ref_cols[0]} is {rtype}"
            )
        return self.plan(
            f"Add foreign key {t.name}.{col} -> {ref_t.name}.{ref_cols[0]}", ops, f"add_{name}"
        )

    def rule_check(self) -> P.DraftPlan | None:
        """A rule in words ("discount can never be more than the fee", "has to end after it
        starts", "must be positive") as a CHECK constraint; None when no comparison over the
        subject table's columns is stated."""
        if self.has(r"\bcheck\s*\(|\b(?:move|reorder|position|place|put|order\s+of)\b"):
            return None  # an explicit check is the check intent's; "put a after b" is layout
        try:
            t = self.r.subject_table()
        except UnderstandingError:
            return None
        expr = rules.read_rule(self.low, t, self.r)
        if expr is None:
            return None
        self.categories += ["check"]
        cols = [w for w in re.findall(r"[a-z_]\w*", expr) if t.column(w)]
        name = self.explicit_name() or _idx_name(t.name, cols, "check")
        if any(k.name == name for k in t.constraints):
            name = _idx_name(t.name, [*cols, "1"], "check")
        for k in t.constraints:
            if k.kind == "check" and re.sub(r"[()\s]", "", k.definition).endswith(
                re.sub(r"[()\s]", "", expr)
            ):
                raise UnderstandingError(
                    f"{t.name} already has the check {k.name} ({k.definition})"
                )
        self.assumptions.append(f"the rule reads as CHECK ({expr})")
        return self.plan(
            f"Add check {expr} on {t.name}",
            [P.AddCheck(table=t.qualified_name, name=name, expression=expr)],
            f"add_{name}",
        )

    def check(self) -> P.DraftPlan | None:
        t = self.r.subject_table()
        explicit = re.search(r"\bcheck\s*\((.+)\)", self.text, re.I | re.S)
        col = None
        if explicit:
            expr = explicit.group(1).strip()
            cols = [c for c in re.findall(r"[a-z_]\w*", expr.lower()) if t.column(c)]
            col = cols[0] if cols else "check"
        else:
            col = self.one_column(t, "constrain")
            ctype = t.column(col).type
            if self.has(
                r"\bnon-?negative\b|\bnot\s+(?:be\s+)?negative\b|\bnever\s+(?:be\s+)?negative\b|\bcan(?:not|'t)\s+be\s+negative\b|>=\s*0\b|\bzero\s+or\s+(?:more|positive)\b|\bat\s+least\s+0\b"
            ):
                expr = f"{col} >= 0"
            elif self.has(r"\bpositive\b|>\s*0\b|\bgreater\s+than\s+(?:0|zero)\b"):
                expr = f"{col} > 0"
            elif m := self.search(r"\bbetween\s+(-?[\d.]+)\s+and\s+(-?[\d.]+)"):
                expr = f"{col} >= {m.group(1)} AND {col} <= {m.group(2)}"
            elif m := self.search(
                r"\b(?:at\s+least|>=|greater\s+than\s+or\s+equal\s+to)\s+(-?[\d.]+)"
            ):
                expr = f"{col} >= {m.group(1)}"
            elif m := self.search(
                r"\b(?:at\s+most|<=|less\s+than\s+or\s+equal\s+to|no\s+more\s+than)\s+(-?[\d.]+)"
            ):
                expr = f"{col} <= {m.group(1)}"
            elif m := self.search(
                r"\b(?:after|later\s+than|greater\s+than|>)\s+(?:the\s+)?([a-z_]\w*)"
            ):
                other = self.r.column_named(t, m.group(1))
                if other is None:
                    raise UnderstandingError(f"{t.name} has no column {m.group(1)} to compare with")
                expr = f"{col} > {other}"
            elif labels := re.findall(r"'([^']*)'", self.text) or _labels(self.text):
                expr = (
                    f"{col} IN ("
                    + ", ".join("'" + x.replace("'", "''") + "'" for x in labels)
                    + ")"
                )
            elif self.has(r"\bnot\s+(?:be\s+)?(?:empty|blank)\b"):
                expr = f"{col} <> ''" if type_family(ctype) == "text" else None
            else:
                expr = None
            if expr is None:
                raise UnderstandingError(
                    f"could not read the condition for the check on {t.name}.{col}",
                    ["write it as 'check (price_cents >= 0)'"],
                )
        self.categories += ["check"]
        name = self.explicit_name() or f"{t.name}_{col}_check"
        if any(k.name == name for k in t.constraints):
            name = f"{t.name}_{col}_check1"
        return self.plan(
            f"Add check {expr} on {t.name}",
            [P.AddCheck(table=t.qualified_name, name=name, expression=expr)],
            f"add_{name}",
        )

    def unique(self) -> P.DraftPlan | None:
        t = self.r.subject_table()
        if self._predicate(t) or self.has(
            r"\bcase[- ]insensitiv|\bignoring\s+case\b|\bregardless\s+of\s+case\b"
        ):
            return self.index(force_unique=True)
        pm = re.search(r"\(\s*([a-z_]\w*(?:\s*,\s*[a-z_]\w*)+)\s*\)", self.low)
        if pm and all(t.column(c.strip()) for c in pm.group(1).split(",")):
            cols = [c.strip() for c in pm.group(1).split(",")]
        else:
            cols = [c for c in self.columns_of(t) if c not in self.pk(t)]
            dotted = [self.r.column_named(t, c) for m, c in self.r.dotted() if m.table is t]
            cols = [c for c in dotted if c] or cols
        if not cols:
            raise UnderstandingError(f"could not tell which column(s) of {t.name} must be unique")
        if len(cols) > 1 and not self.has(r"\b(?:together|combination|pair|per|each)\b|,|\band\b"):
            raise AmbiguousRequest(f"more than one column of {t.name} could be meant", cols)
        self.categories += ["unique"]
        for k in t.constraints:
            if k.kind in ("unique", "primary_key") and sorted(k.columns) == sorted(cols):
                raise UnderstandingError(
                    f"{t.name} ({', '.join(cols)}) is already unique ({k.name})"
                )
        existing_ix = None
        for ix in t.indexes:
            if ix.unique and sorted(ix.keys) == sorted(cols) and not ix.predicate:
                if not self.has(r"\bconstraint\b"):
                    raise UnderstandingError(
                        f"{t.name} ({', '.join(cols)}) is already unique (index {ix.name})"
                    )
                existing_ix = ix
        name = self.explicit_name() or _idx_name(t.name, cols, "key")
        self.warnings.append(
            f"the upgrade fails if {t.name} already holds duplicate ({', '.join(cols)}) values"
        )
        ops: list = [P.AddUnique(table=t.qualified_name, name=name, columns=cols)]
        if existing_ix is not None:
            ops.insert(0, P.DropIndex(table=t.qualified_name, name=existing_ix.name))
        return self.plan(f"Make {t.name} ({', '.join(cols)}) unique", ops, f"add_{name}")

    def _predicate(self, t: Table) -> str | None:
        """A row condition written in SQL: `(deleted_at IS NULL)`, `where status = 'x'`."""
        m = re.search(
            r"\b([a-z_]\w*)\s+(is\s+(?:not\s+)?null|is\s+(?:not\s+)?(?:true|false)|=\s*'[^']*'|<>\s*'[^']*'|=\s*(?:true|false|\d+))",
            self.r.text,
            re.I,
        )
        if m and t.column(m.group(1).lower()):
            return f"{m.group(1).lower()} {m.group(2).upper() if 'null' in m.group(2).lower() else m.group(2)}"
        return self._soft_delete_predicate(t)

    def _soft_delete_predicate(self, t: Table) -> str | None:
        """ "ignore soft-deleted rows", "among live rows", "not counting archived ones": the
        rows whose soft-delete column is unset. None when the request says nothing of the
        kind; a refusal when it does but `t` has no such column."""
        m = self.search(SOFT_DELETED)
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
            if note not in self.assumptions:
                self.assumptions.append(note)
            return pred
        raise UnderstandingError(
            f"the request limits the rule to rows that are not {'archived' if archived else 'deleted'}, "
            f"but {t.name} has no column that marks them",
            [f"columns of {t.name}: {', '.join(c.name for c in t.columns)}"],
            f"name the condition, e.g. 'where {names[0]} is null'",
        )

    def exclusion(self) -> P.DraftPlan | None:
        t = self.r.subject_table()

        def timed(x: Table) -> bool:
            return (
                any(c.type.endswith("range") for c in x.columns)
                or sum(type_family(c.type) in ("timestamp", "date") for c in x.columns) >= 2
            )

        if not timed(t):
            cands = [m.table for m in self.r.table_mentions() if timed(m.table)]
            cands = list(dict.fromkeys(cands)) or [x for x in self.r.tables if timed(x)]
            if len(cands) == 1:
                t = cands[0]
        ranges = [c for c in t.columns if c.type.endswith("range")]
        cols = self.columns_of(t)
        if ranges:
            rng = (
                ranges[0].name
                if len(ranges) == 1
                else next((c for c in cols if t.column(c).type.endswith("range")), None)
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
                raise UnderstandingError(
                    f"found no time range in {t.name} to keep from overlapping"
                )
            fn = (
                "tstzrange"
                if "with time zone" in t.column(start).type
                else "tsrange"
                if "timestamp" in t.column(start).type
                else "daterange"
            )
            range_expr = f"{fn}({start}, {end})"
        # the grouping column: "the same room" -> room_id
        group = None
        sm = re.search(r"\bsame\s+([a-z_]\w*)", self.low)
        if sm:
            for cand in (f"{sm.group(1)}_id", sm.group(1), f"{singular(sm.group(1))}_id"):
                if t.column(cand):
                    group = cand
                    break
        if group is None:
            fks = [
                k.columns[0]
                for k in t.constraints
                if k.kind == "foreign_key" and len(k.columns) == 1
            ]
            named = [c for c in cols if c in fks]
            if len(named) == 1 or len(fks) == 1:
                group = (named or fks)[0]
        if group is None:
            raise UnderstandingError(
                f"could not tell which column of {t.name} groups the non-overlapping rows"
            )
        self.categories += ["exclusion_constraint", "extension", "constraint"]
        name = self.explicit_name() or f"{t.name}_no_overlap"
        ops: list = self.extension_ops("btree_gist")
        ops.append(
            P.RawSQL(
                upgrade=f"ALTER TABLE {qi_(t)} ADD CONSTRAINT {name} EXCLUDE USING gist ({group} WITH =, {range_expr} WITH &&)",
                downgrade=f"ALTER TABLE {qi_(t)} DROP CONSTRAINT {name}",
                table=t.qualified_name,
            )
        )
        self.warnings.append(
            f"the upgrade fails if {t.name} already holds overlapping rows; building the constraint "
            f"locks {t.name} (ACCESS EXCLUSIVE) while its index is built"
        )
        return self.plan(f"Prevent overlapping {t.name} per {group}", ops, f"{t.name}_no_overlap")

    def default(self) -> P.DraftPlan | None:
        t = self.r.subject_table()
        col = self.one_column(t, "change the default of")
        c = t.column(col)
        if self.has(
            r"\b(?:remove|drop|delete|no\s+longer|get\s+rid\s+of|without|unset|clear|no)\b[^.]{0,40}\bdefault|\bdefault\b[^.]{0,20}\b(?:removed|dropped|gone)\b"
        ):
            if c.default is None:
                raise UnderstandingError(f"{t.name}.{col} has no default to remove")
            self.categories += ["default", "drop_default"]
            return self.plan(
                f"Drop the default of {t.name}.{col}",
                [P.SetDefault(table=t.qualified_name, column=col, default=None)],
                f"drop_{t.name}_{col}_default",
            )
        m = re.search(
            r"\bdefault(?:s|ing)?(?:\s+(?:value|it))?\s*(?:to|of|=|:|is|as|should\s+be|becomes?)?\s+(.+?)(?:$|[.;]\s|,\s|\s+when\b|\s+if\b|\s+for\b|\s+and\b|\s+instead\b)",
            self.text + " ",
            re.I,
        )
        value = parse_value(m.group(1), c.type) if m else None
        if value is None:
            raise UnderstandingError(
                f"could not read the new default for {t.name}.{col}",
                ["write it as \"default 'open'\" or 'default now()'"],
            )
        if type_family(c.type) in ("int", "num") and not re.match(r"-?\d", value):
            raise UnderstandingError(f"{value} is not a number, but {t.name}.{col} is {c.type}")
        self.categories += ["default", "set_default"]
        if (
            c.nullable
            and self.has(r"\bnot\s+null\b|\brequired\b|\bmandatory\b|\bnon-?null(?:able)?\b")
            and not self.has(r"\b(?:no\s+longer|not)\s+required\b")
        ):
            # "make x NOT NULL with default 'y'": both; the rows still NULL get the default
            self.categories += ["not_null", "backfill"]
            self.assumptions.append(
                f"rows where {t.name}.{col} is NULL get {value} before NOT NULL"
            )
            return self.plan(
                f"Default {t.name}.{col} to {value} and make it NOT NULL",
                [
                    P.SetDefault(table=t.qualified_name, column=col, default=value),
                    P.SetNotNull(table=t.qualified_name, column=col, backfill=value),
                ],
                f"{t.name}_{col}_default_not_null",
            )
        if (
            self.has(r"\b(?:existing|old|current)\s+(?:rows|records|values|nulls)\b|\bbackfill\b")
            and c.nullable
        ):
            self.categories += ["backfill"]
            return self.plan(
                f"Default {t.name}.{col} to {value}",
                [
                    P.SetDefault(table=t.qualified_name, column=col, default=value),
                    P.Backfill(
                        table=t.qualified_name, column=col, value=value, where=f"{col} IS NULL"
                    ),
                ],
                f"{t.name}_{col}_default",
            )
        return self.plan(
            f"Default {t.name}.{col} to {value}",
            [P.SetDefault(table=t.qualified_name, column=col, default=value)],
            f"set_{t.name}_{col}_default",
        )

    def business_default(self) -> P.DraftPlan | None:
        """A default stated as what new rows start with: "new listings start on the basic
        tier", "new accounts should start as 'trial'". The column is the one named after
        the value (tier) or in the words; none or several: a refusal."""
        m = self.search(
            r"\bnew\s+([a-z_]\w*(?:\s+[a-z_]\w*)?)\s+(?:should\s+|will\s+|must\s+|always\s+)*"
            r"(?:start|begin|get)s?\s+(?:off\s+|out\s+)?(?:as|on|in|at|with|from)?\s*(?:the\s+|a\s+|an\s+)?"
            r"('(?:[^']|'')*'|-?\d+(?:\.\d+)?|[a-z_][\w-]*)(?:\s+([a-z_]\w*))?"
        )
        if not m:
            return None
        try:
            t = self.r.subject_table()
        except UnderstandingError:
            return None
        cands = [
            x.column
            for x in self.r.column_mentions(t, start=m.start(2))
            if x.column and t.column(x.column)
        ]
        if not cands:
            cands = [x.column for x in self.r.column_mentions(t) if x.column]
        cands = list(dict.fromkeys(cands))
        if len(cands) != 1:
            raise UnderstandingError(
                f"read a default for new {t.name} rows ({m.group(2)}), but not which column it is for",
                [f"columns of {t.name}: {', '.join(c.name for c in t.columns)}"],
                f'name the column, e.g. "{t.name}.<column> should default to {m.group(2)}"',
            )
        col = cands[0]
        c = t.column(col)
        raw = m.group(2)
        number = re.fullmatch(r"-?\d+(?:\.\d+)?", raw)
        if raw.startswith("'") or (type_family(c.type) in ("int", "num") and number):
            value = raw
        elif type_family(c.type) == "text" or c.type in {e.name for e in self.snap.enums.values()}:
            value = f"'{raw}'"
        else:
            value = parse_value(raw, c.type)
        if value is None:
            raise UnderstandingError(f"could not read {raw!r} as a value of {t.name}.{col}")
        if c.default is not None and c.default.split("::")[0] == value:
            raise UnderstandingError(f"{t.name}.{col} already defaults to {value}")
        self.categories += ["default", "set_default"]
        self.assumptions.append(
            f"'new {m.group(1)} start {raw}' reads as the default of {t.name}.{col}; existing rows keep their values"
        )
        return self.plan(
            f"Default {t.name}.{col} to {value}",
            [P.SetDefault(table=t.qualified_name, column=col, default=value)],
            f"set_{t.name}_{col}_default",
        )

    def nullability(self) -> P.DraftPlan | None:
        t = self.r.subject_table()
        drop = self.has(
            r"\ballow\b[^;]{0,60}?\bto\s+be\s+(?:null|empty|missing|blank|unset)\b|\boptional\b|\b(?<!non-)nullable\b|\ballow\s+nulls?\b|\b(?:drop|remove|delete|get\s+rid\s+of)\s+(?:the\s+)?not[\s-]+null\b|\bcan\s+be\s+(?:null|empty|missing)\b|\bno\s+longer\s+required\b|\bnot\s+required\b"
        )
        col = self.one_column(t, "make " + ("nullable" if drop else "NOT NULL"))
        c = t.column(col)
        if drop:
            if c.nullable:
                raise UnderstandingError(f"{t.name}.{col} is already nullable")
            if any(col in k.columns for k in t.constraints if k.kind == "primary_key"):
                raise UnderstandingError(
                    f"{t.name}.{col} is part of the primary key and cannot be nullable"
                )
            self.categories += ["drop_not_null"]
            return self.plan(
                f"Make {t.name}.{col} nullable",
                [P.DropNotNull(table=t.qualified_name, column=col)],
                f"make_{t.name}_{col}_nullable",
            )
        if not c.nullable:
            raise UnderstandingError(f"{t.name}.{col} is already NOT NULL")
        self.categories += ["not_null"]
        fill = None
        fm = re.search(
            r"\b(?:set|fill|backfill|replace|default)\s+(?:existing\s+|the\s+|any\s+|old\s+)*(?:nulls?|missing(?:\s+values?)?|empty\s+ones|blanks?)\s+(?:to|with|as)\s+(.+?)(?:$|[.;]\s|,\s|\s+first\b)",
            self.text + " ",
            re.I,
        ) or re.search(
            r"\bnulls?\s+(?:become|becomes|should\s+be|get|=)\s+(.+?)(?:$|[.;]\s|,\s)",
            self.text + " ",
            re.I,
        )
        if fm:
            fill = parse_value(fm.group(1), c.type)
            if fill is None:
                raise UnderstandingError(
                    f"could not read the value for existing NULLs: {fm.group(1)!r}"
                )
            self.categories += ["backfill"]
        else:
            self.warnings.append(
                f"the upgrade fails if {t.name}.{col} still holds NULLs; backfill them first"
            )
        return self.plan(
            f"Make {t.name}.{col} NOT NULL",
            [P.SetNotNull(table=t.qualified_name, column=col, backfill=fill)],
            f"make_{t.name}_{col}_not_null",
        )

    # ------------------------------------------------------------ type changes
    def alter_type(self) -> P.DraftPlan | None:
        t = self.r.subject_table()
        col = self.one_column(t, "change the type of")
        c = t.column(col)
        new = None
        tm = re.search(
            r"\b(?:to|into|as|become|becomes|be)\s+(?:an?\s+|the\s+)?(.{1,60})", self.low
        )
        candidates = []
        for m in re.finditer(
            r"\b(?:to|into|as|become|becomes|be|make\s+it|make\s+\S+|use)\s+(?:an?\s+|the\s+)?",
            self.low,
        ):
            ft = find_type(self.low[m.end() : m.end() + 50])
            if ft and ft[1] == 0:
                candidates.append(ft[0])
        if candidates:
            new = candidates[-1]
        elif self.has(r"\boverflow|\brun(?:ning)?\s+out\s+of\b") and type_family(c.type) == "int":
            new = "bigint"
            self.assumptions.append(
                f"{t.name}.{col} becomes bigint (it is about to overflow {c.type})"
            )
        elif tm is None:
            types = find_types(self.low)
            new = types[-1] if types else None
        else:
            types = find_types(self.low)
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
        self.categories += ["type_change"]
        ops: list = []
        if new_n == "citext":
            ops += self.extension_ops("citext")
        using = None
        reverse = None
        m_len = re.fullmatch(r"character varying\((\d+)\)", new_n)
        if m_len and type_family(c.type) == "text":
            old_len = re.search(r"\((\d+)\)", c.type)
            shrinking = not old_len or int(old_len.group(1)) > int(m_len.group(1))
            if shrinking:
                if self.has(r"\btruncat|\bcut\b|\bchop|\btrim|\bshorten"):
                    using = f"left({col}, {m_len.group(1)})::{new_n}"
                    self.categories += ["data_migration"]
                else:
                    self.warnings.append(
                        f"the upgrade fails if any {t.name}.{col} is longer than {m_len.group(1)} characters "
                        "(say 'truncate' to cut them)"
                    )
        if type_family(c.type) == "timestamp" and type_family(new_n) == "timestamp":
            zone = re.search(r"\b(utc|[A-Z][a-z]+/[A-Za-z_]+)\b", self.request, re.I)
            z = "UTC" if not zone or zone.group(1).lower() == "utc" else zone.group(1)
            if not zone:
                self.assumptions.append(f"existing {t.name}.{col} values are in UTC")
            using = f"{col} AT TIME ZONE '{z}'"
            reverse = f"{col} AT TIME ZONE '{z}'"
            self.categories += ["timezone"]
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
            if col in self.pk(t):
                for other in self.r.tables:
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
                                self.assumptions.append(
                                    f"{other.name}.{oc.name} (references {t.name}.{col}) becomes bigint too"
                                )
        old_f, new_f = type_family(c.type), type_family(new_n)
        if (
            old_f != new_f
            and not (old_f in ("int", "num") and new_f in ("int", "num"))
            and new_f != "text"
        ):
            self.warnings.append(
                f"the upgrade fails if any {t.name}.{col} value does not convert to {new_n}"
            )
        return self.plan(
            f"Change {t.name}.{col} from {c.type} to {new_n}",
            ops,
            f"{t.name}_{col}_to_{snake(new_n)}",
        )

    def extension(self) -> P.DraftPlan | None:
        m = re.search(
            r"\b(?:enable|install|create|add)\s+(?:the\s+)?(?:extension\s+)?[`'\"]?([a-z_][\w-]*)[`'\"]?(?:\s+extension)?",
            self.low,
        )
        if not m or m.group(1) in ("extension", "the", "a"):
            return None
        name = m.group(1)
        if not self.extension_ops(name):
            raise UnderstandingError(f"extension {name} is already installed")
        self.categories += ["extension"]
        return self.plan(
            f"Enable extension {name}", [P.CreateExtension(name=name)], f"enable_{snake(name)}"
        )


# a bound parameter of a pasted query: $1, ?, %s, %(name)s, :name
PLACEHOLDER = re.compile(r"\$\d+|(?<![\w?])\?(?![\w?])|%s\b|%\(\w+\)s|(?<![\w:]):[a-z_]\w*")

# words that limit a rule or an index to the rows not soft-deleted (or not archived)
SOFT_DELETED = (
    r"\b(?:ignor\w*|exclud\w*|except(?:\s+for)?|skip\w*|not\s+(?:counting|including)|without)\s+"
    r"(?:the\s+|any\s+|all\s+)?(?:soft[- ]?)?(?:deleted|archived|removed|discarded)\b"
    r"|\b(?:among|for|of|across|between|on)\s+(?:the\s+)?(?:live|active|non[- ]?deleted|undeleted|"
    r"not[- ]deleted|non[- ]?archived|unarchived)\b"
    r"|\b(?:not|never|aren't|isn't)\s+(?:soft[- ]?)?(?:deleted|archived)\s*(?:ones|rows|records)?\b"
    r"|\bsoft[- ]?delet\w*|\bunless\s+(?:it\s+is\s+|they\s+are\s+)?(?:soft[- ]?)?(?:deleted|archived)\b"
)

# type names that are also everyday nouns ending a column's name: "delivery date"
NOUN_TYPES = r"date|time|interval|duration|period|money|timestamp"

EXTENSION_TYPES = {
    "citext": "citext",
    "hstore": "hstore",
    "ltree": "ltree",
    "cube": "cube",
    "vector": "vector",
}


def qi_(t: Table) -> str:
    from migagent.agent.lower import qt

    return qt(t.qualified_name)


def _labels(text: str) -> list[str]:
    """Enum labels written as 'a', 'b' / a / b / c / (a, b, c) / values a, b and c."""
    quoted = re.findall(r"'([^']+)'", text)
    if len(quoted) >= 2:
        return quoted
    m = re.search(r"\b([\w-]+(?:\s*/\s*[\w-]+)+)\b", text)
    if m:
        return [x.strip() for x in m.group(1).split("/")]
    m = re.search(
        r"\b(?:values?|labels?|one\s+of|options?|states?|only\s+(?:ever\s+)?be)\s*:?\s*\(?([\w\s,-]+?(?:,|\s+or\s+|\s+and\s+)[\w\s,-]+?)\)?(?:\s*\((?:in\s+that\s+order)\)|\s+in\s+that\s+order)?(?:[.;:]|$)",
        text,
        re.I,
    )
    if m:
        return [x.strip() for x in re.split(r",|\s+or\s+|\s+and\s+", m.group(1)) if x.strip()]
    m = re.search(r"\(([^)]*,[^)]*)\)", text)
    if m:
        return [x.strip().strip("'\"") for x in m.group(1).split(",") if x.strip()]
    return []


def _restore_dropped(plan: P.DraftPlan, planner: Planner) -> P.DraftPlan:
    pending = getattr(planner, "_pending_reverse", None)
    if pending is None:
        return plan
    t, c, rev = pending
    # the downgrade re-adds the dropped column empty; refill it from the parts
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


def _split_sentence(text: str) -> tuple[str, str]:
    """(text up to the end of the first sentence at depth 0, rest)."""
    depth = 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return text[:i], text[i + 1 :]
        elif ch == "." and depth == 0 and (i + 1 == len(text) or text[i + 1] in " \n"):
            return text[:i], text[i + 1 :]
    return text, ""


def _split_top(text: str) -> list[str]:
    out, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if (ch == "," or ch == ";") and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    # "x text and y text" at the end
    fixed = []
    for item in out:
        fixed.extend(
            re.split(
                r"\s+and\s+(?=[a-z_]\w*\s+(?:text|varchar|int|integer|bigint|boolean|bool|timestamptz|timestamp|date|uuid|jsonb|numeric|serial|bigserial))",
                item,
                flags=re.I,
            )
        )
    return fixed


def _convention_type(name: str, snap) -> str | None:
    """The type the schema already gives columns of this name (or, for a compound name,
    of its last word: billing_currency -> the type of the `currency` columns), when all of
    them agree."""
    n = name.lower()
    tail = n.rsplit("_", 1)[-1] if "_" in n else None
    for want in (n, tail):
        if not want or len(want) < 3 or want in ("id", "key", "ref", "at", "on"):
            continue
        types = {
            c.type
            for t in snap.tables.values()
            for c in t.columns
            if (c.name.lower() == want or c.name.lower().endswith("_" + want)) and not c.generated
        }
        if len(types) == 1:
            return types.pop()
    return None


def _infer_type(name: str, snap) -> str | None:
    n = name.lower()
    if not n.endswith("_id"):
        convention = _convention_type(n, snap)
        if convention is not None and not convention.startswith(("serial", "bigserial")):
            return convention
    rules = [
        (r"_at$|^at_|timestamp$", "timestamp with time zone"),
        (r"_on$|_date$|^date_|^birthday$|^dob$", "date"),
        (
            r"^(?:is|has|can|should)_|_enabled$|^enabled$|^active$|^archived$|^deleted$|_flag$|^verified$",
            "boolean",
        ),
        (r"_id$", "bigint"),
        (r"(?:^|_)(?:count|quantity|qty|position|rank|attempts|retries|age|year)$", "integer"),
        (r"(?:^|_)(?:size|bytes|size_bytes)$", "bigint"),
        (r"_cents$", "bigint"),
        (r"(?:^|_)(?:price|amount|total|cost|balance|fee)$", "numeric(12,2)"),
        (
            r"(?:^|_)(?:email|name|title|url|slug|description|notes?|comment|body|content|summary|label|code|phone|"
            r"currency|region|country|city|address|locale|language|color|colour|category|channel|source|"
            r"reference|handle|username|nickname|reason|remarks?)$",
            "text",
        ),
        (r"(?:^|_)(?:metadata|attributes|settings|payload|data|properties|config|extra)$", "jsonb"),
        (r"(?:^|_)uuid$|_guid$", "uuid"),
        (r"(?:^|_)tags$", "text[]"),
    ]
    for pattern, t in rules:
        if re.search(pattern, n):
            return t
    return None


def plan_request(request: str, facts: P.Facts) -> P.DraftPlan:
    """The offline planner's reading of `request` against `facts` (or an error)."""
    planner = Planner(request, facts)
    try:
        plan = planner.run()
    except UnderstandingError as exc:
        if planner.quoted:  # say the names as the user wrote them, not their tokens
            exc.problem = restore_quoted(exc.problem, planner.quoted)
            exc.args = (str(exc),)
        raise
    plan = data_intents.account_data_clauses(plan, planner.request, facts)
    _account_clauses(plan, planner)
    if planner.quoted:
        _restore(plan, planner.quoted)
        plan.slug = snake(plan.slug)
    return plan


# a request of several steps: where one ends and the next (with its own verb) starts
_STEP_VERBS = r"add|create|introduce|drop|remove|delete|rename|index|make|get\s+rid\s+of"
_STEP_BOUNDARY = re.compile(
    rf"\s*;\s*|\.\s+|,\s*(?:and\s+)?(?:then\s+)?(?:also\s+)?(?=(?:{_STEP_VERBS})\b)|"
    rf"\s+and\s+(?:then\s+)?(?:also\s+)?(?=(?:{_STEP_VERBS})\b)|\s+then\s+(?=(?:{_STEP_VERBS})\b)"
)
# the operations a step's verb can stand for
_STEP_OPS: dict[str, tuple[type, ...]] = {
    "add": (P.AddColumn, P.CreateTable, P.CreateIndex, P.AddForeignKey, P.AddCheck, P.AddUnique,
            P.CreateEnum, P.AddEnumValue, P.CreateExtension, P.SetDefault, P.RawSQL),
    "drop": (P.DropColumn, P.DropIndex, P.DropTable, P.DropConstraint, P.SetDefault,
             P.DropNotNull, P.RawSQL),
    "rename": (P.RenameColumn, P.RenameTable),
    "index": (P.CreateIndex, P.AddUnique),
}  # fmt: skip
_STEP_FAMILY = {"create": "add", "introduce": "add", "remove": "drop", "delete": "drop"}


def _account_clauses(plan: P.DraftPlan, planner: Planner) -> None:
    """Each step of a request of several ("rename a to b and drop c") must be planned:
    a step whose verb no operation of the plan stands for is refused, naming it, rather
    than drafted as less than was asked."""
    text = planner.low
    masked = data_intents.mask(text)
    bounds = list(_STEP_BOUNDARY.finditer(masked))
    starts = [0] + [m.end() for m in bounds]
    ends = [m.start() for m in bounds] + [len(text)]
    steps = [text[a:b].strip(" ,;.") for a, b in zip(starts, ends, strict=True)]
    steps = [x for x in steps if x]
    if len(steps) < 2 and not re.match(r"(?:please\s+)?make\b", steps[0] if steps else ""):
        return
    for i, step in enumerate(steps):
        vm = re.match(rf"(?:please\s+)?(?:also\s+)?({_STEP_VERBS})\b", step)
        if not vm:
            continue
        verb = re.sub(r"\s+", " ", vm.group(1))
        verb = "drop" if verb == "get rid of" else _STEP_FAMILY.get(verb, verb)
        kinds = _STEP_OPS.get(verb)
        if ref_action(step) and any(isinstance(op, P.AddForeignKey) for op in plan.operations):
            continue  # "... and delete orders with their customer": the key's ON DELETE
        if verb == "make":
            if _make_step_planned(plan, planner, step):
                continue
        elif kinds is None or any(isinstance(op, kinds) for op in plan.operations):
            continue
        understood = "; ".join(steps[:i]) if i else plan.intent
        raise UnderstandingError(
            f"I understood {understood!r} but could not plan {step!r}",
            [f"the draft would only: {plan.intent}"],
            "ask for one change per request, or spell each step out "
            "('rename orders.note to memo; drop orders.legacy_code')",
        )


def _make_step_planned(plan: P.DraftPlan, planner: Planner, step: str) -> bool:
    """'make <column> unique / required / optional' is planned when an operation gives
    that column that property (a step naming no column, or another property, passes)."""
    props = [
        (r"\bunique\b", lambda op, c: (isinstance(op, P.AddUnique) and c in op.columns)
         or (isinstance(op, P.CreateIndex) and op.unique
             and any(re.search(rf"\b{re.escape(c)}\b", k) for k in op.keys))),
        (r"\brequired\b|\bnot\s+null\b|\bmandatory\b|\bnon-?null",
         lambda op, c: (isinstance(op, P.SetNotNull) and op.column == c)
         or (isinstance(op, P.AddColumn) and op.column.name == c and not op.column.nullable)),
        (r"\boptional\b|\bnullable\b",
         lambda op, c: (isinstance(op, P.DropNotNull) and op.column == c)
         or (isinstance(op, P.AddColumn) and op.column.name == c and op.column.nullable)),
    ]  # fmt: skip
    prop = next((fn for pattern, fn in props if re.search(pattern, step)), None)
    if prop is None:
        return True
    r = Resolver(planner.snap, step)
    named = [c for m, c in r.dotted()]
    if not named:
        for t in {op.table for op in plan.operations if getattr(op, "table", None)}:
            tt = planner.snap.table(t)
            if tt is not None:
                named += [m.column for m in r.column_mentions(tt) if m.column]
    added = [op.column.name for op in plan.operations if isinstance(op, P.AddColumn)]
    if re.search(r"\b(?:it|them)\b", step) and not named:
        named = added
    if not named:
        return True
    return all(any(prop(op, c) for op in plan.operations) for c in named)


def _restore(obj: object, tokens: dict[str, str]) -> object:
    """Put quoted identifiers back in every string of a plan (in place for models)."""
    from pydantic import BaseModel

    if isinstance(obj, str):
        return restore_quoted(obj, tokens)
    if isinstance(obj, list):
        return [_restore(x, tokens) for x in obj]
    if isinstance(obj, tuple):
        return tuple(_restore(x, tokens) for x in obj)
    if isinstance(obj, dict):
        return {_restore(k, tokens): _restore(v, tokens) for k, v in obj.items()}
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            setattr(obj, name, _restore(getattr(obj, name), tokens))
    return obj
