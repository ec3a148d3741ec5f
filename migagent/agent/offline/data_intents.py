"""Data migrations read from a request: the offline planner's data intent.

Two entry points, both pure functions of the request and the schema:

- `plan_data_statement(planner)`: a request that *is* a data change,
  "set/update/replace/fill/backfill/populate <column> to/with/=/from <value>
  [where <condition>]" in its usual spellings (`customers.phone`, `phone of
  customers`, `NULL phone numbers of customers`, `update customers set phone =
  ...`, `for rows where ..., set ...`, `in customers.phone replace '' with
  NULL`). Returns a plan of one `P.Backfill`, None when the request is not of
  that shape, or raises `UnderstandingError` naming the part it could not read.
- `account_data_clauses(plan, request, facts)`: after any other intent planned
  a request, every data clause in it ("backfilled from ...", "backfilling
  NULLs with ...", "filled in from ...") must be honoured by the plan: it is
  already (same value), or it is planned here (a backfill after the new
  column, the fill of a SET NOT NULL), or the request is refused naming it.

Values and conditions are SQL read with pglast (`SELECT <value>`, `... WHERE
<condition>`), their column references resolved against the table (and a
table joined through a foreign key), and kept exactly as written; a few
words are read as values ("an empty string", "zero", "now") and as
conditions ("where it is null", "missing", "null or empty").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pglast import ast, parse_sql
from pglast.parser import ParseError
from pglast.visitors import Visitor

from migagent.agent import plan as P
from migagent.agent.errors import UnderstandingError
from migagent.agent.offline.context import Ctx
from migagent.agent.offline.lexicon import find_type, singular
from migagent.agent.offline.resolve import Resolver
from migagent.agent.satypes import type_family
from migagent.tools.introspect.model import Table
from migagent.tools.sql import quote_ident, quote_table

EXAMPLE = "e.g. \"set customers.phone to 'unknown' where it is null\""

# ------------------------------------------------------------------ the grammar
# verb forms (commit style too: "Sets", "Backfills", "updating") -> what they mean here
_VERB_FORMS: list[tuple[str, str]] = [
    (r"set(?:s|ting)?|overwrit(?:e|es|ing)|recomput(?:e|es|ed|ing)", "set"),
    (r"updat(?:e|es|ed|ing)", "update"),
    (r"replac(?:e|es|ed|ing)", "replace"),
    (r"backfill(?:s|ed|ing)?", "backfill"),
    (r"fill(?:s|ed|ing)?(?:\s+in)?", "fill"),
    (r"populat(?:e|es|ed|ing)", "populate"),
    (r"default(?:s|ed|ing)?", "default"),  # only with a condition: else the column's default
    (r"chang(?:e|es|ed|ing)|convert(?:s|ed|ing)?|turn(?:s|ed|ing)?", "change"),  # likewise
]
VERBS = "|".join(p for p, _ in _VERB_FORMS)
# verbs that name the function: "lowercase customers.email", "trim whitespace from x"
_FUNCTION_VERBS: list[tuple[str, str]] = [
    (r"lower\s*case(?:s|d)?|lowercas(?:e|es|ed|ing)|downcas(?:e|es|ed|ing)", "lower"),
    (r"upper\s*case(?:s|d)?|uppercas(?:e|es|ed|ing)|upcas(?:e|es|ed|ing)", "upper"),
    (r"trim(?:s|med|ming)?|strip(?:s|ped|ping)?", "btrim"),
    (r"capitali[sz](?:e|es|ed|ing)", "initcap"),
]
_FUNCTIONS = "|".join(p for p, _ in _FUNCTION_VERBS)
_SUBJECT_FIRST = (
    r"\s+(?:should\s+(?:now\s+)?(?:get|become|be\s+(?:set|changed)\s+to)|gets?|becomes?|"
    r"(?:is|are)\s+(?:now\s+)?(?:set|changed)\s+to)\s+"
)


def _base(verb: str, forms: list[tuple[str, str]]) -> str:
    v = re.sub(r"\s+", " ", verb.lower())
    return next((base for pattern, base in forms if re.fullmatch(pattern, v)), v)


# What the planner's dispatcher matches to try this intent at all.
STATEMENT_TRIGGER = (
    rf"^\s*(?:please\s+)?(?:{VERBS})\b|^\s*(?:for\s+(?:all\s+)?(?:the\s+)?(?:rows|records)|where|wherever|if)\b"
    r"[^,]*,\s*(?:please\s+)?(?:set|update|replace|fill|backfill|populate)\b|^\s*in\s+\S+\s*,?\s*replace\b"
    rf"|^\s*(?:please\s+)?(?:{_FUNCTIONS}|normali[sz]e|cop(?:y|ies|ying))\b|^[^,;]*?{_SUBJECT_FIRST}"
    rf"|[.!?]\s+(?:please\s+)?(?:{VERBS})\b"  # after a sentence of context
)
# or a NOT NULL whose NULL rows are filled first (intents.data.fill_then_require)
FILL_REQUIRE_TRIGGER = (
    r"(?=.*(?:\bnot\s+null\b|\bmandatory\b|\brequired\b|\bnon-?null|\b(?:must|should|may|can)\s*(?:not|n't|never)\s+be\s+null\b))"
    r"(?=.*\b(?:fill|backfill|populate|use\s+(?:their|its)|treated\s+as|counted\s+as|nulls?\s+(?:become|get|should)|"
    r"(?:set|default)\s+(?:the\s+|any\s+|existing\s+)*nulls?|where(?:ver)?\s+(?:it\s+is\s+|they\s+are\s+)?null|"
    r"\bfor\s+(?:the\s+)?(?:missing|null|empty)\b))"
)
TRIGGER = rf"{STATEMENT_TRIGGER}|^{FILL_REQUIRE_TRIGGER}"
# a sentence of context before the statement must not itself ask for a schema change
_ASKS = re.compile(r"\b(?:need|needs|should|must|want|wants|track|store|column|field|table)\b")
_SEP = r"\s+(?:to|with|from|as|using)\s+|\s*:?=\s*"
_COND = (
    r"\s+(?:where|wherever|whenever|when|if|only\s+(?:where|when|if)|"
    r"for\s+(?:the\s+)?(?:rows|records|ones|those)\s+(?:where|that|which|with)|"
    r"in\s+(?:the\s+)?(?:rows|records)\s+(?:where|that|which|with))\s+"
)
_SCOPE_ALL = (
    r"(?:for|in|on)\s+(?:all|every|each)(?:\s+(?:of\s+)?(?:the\s+)?(?:existing\s+|current\s+|old\s+)?\w+)?"
    r"|everywhere|(?:in|for)\s+(?:all\s+)?(?:existing|current|old)\s+\w+"
    r"|overwriting(?:\s+(?:all|any|existing|the))*(?:\s+(?:values|ones|rows))?"
)
_FILLER = rf"(?:\s*(?:please|first|as\s+well|too|now|thanks|{_SCOPE_ALL}))*\s*[.!]?\s*"
# a clause ends at a top-level ';', a sentence end, or a comma/and that starts another step
_BOUNDARY = (
    r"\s*;\s*|\.\s+|\.$|,\s*(?:and\s+)?then\s+|\s+and\s+then\s+|\s+then\s+|"
    r",\s*(?=(?:so|because|since|as)\s+(?!well\b))|"  # ", so the job can ...": a reason
    r",\s*(?:and\s+)?(?=(?:make|add|index|drop|create|rename|also|mark|remove|set|change|keep)\b)|"
    r"\s+and\s+(?=(?:make|add|index|drop|create|rename|also|mark|remove|change|keep)\b)"
)
# data clauses inside a request another intent planned
_CLAUSE = re.compile(
    r"\b(?:backfill(?:ed|ing|s)?|(?:re)?fill(?:ed|ing|s)?(?:\s+in)?|populat(?:ed|es|ing|e)\b|"
    r"(?:set|setting|replace|replacing|default|defaulting)\s+(?=(?:the\s+|all\s+|any\s+|existing\s+|old\s+|current\s+)*"
    r"(?:nulls?|missing|empty|blanks?|existing\s+(?:rows|values|ones|nulls))\b)|"
    r"(?:existing|old|current)\s+(?:rows|values|nulls|ones|records)\s+(?:get|become|are\s+set\s+to|should\s+(?:get|become|be))\s+"
    r"|nulls?\s+(?:become|get|should\s+(?:get|become|be))\s+)"
)
_NULLS_TARGET = re.compile(
    r"^(?:(?:the|all|any|existing|old|current|its|their)\s+)*"
    r"(?:nulls?|missing(?:\s+(?:ones|values?|rows))?|empty(?:\s+ones)?|blanks?|existing\s+(?:rows|values|ones|nulls)|"
    r"it|them|those|the\s+(?:new\s+)?(?:column|field|values?)|ones|rows)?\s*$"
)
_WORD_VALUES: list[tuple[str, str]] = [
    (r"null|nothing|no\s+value", "NULL"),
    (r"(?:an?\s+)?empty\s+(?:string|text)|blank|empty", "''"),
    (r"zero", "0"),
    (r"now|the\s+current\s+(?:time|timestamp)|current\s+time", "now()"),
    (r"today|the\s+current\s+date", "CURRENT_DATE"),
    (r"yes", "true"),
    (r"no", "false"),
    (r"(?:an?\s+)?empty\s+(?:object|json)", "'{}'::jsonb"),
    (r"(?:an?\s+)?empty\s+(?:array|list)", "'{}'"),
]
_NL_NULL = r"null|missing|unset|not\s+set|absent|none|not\s+filled(?:\s+in)?"
_NL_PREDICATES: list[tuple[str, str]] = [
    (rf"(?:{_NL_NULL})\s+or\s+(?:empty|blank)|(?:empty|blank)\s+or\s+(?:{_NL_NULL})|blank", "null_or_empty"),
    (r"not\s+null|present|set|filled(?:\s+in)?|not\s+missing", "not_null"),
    (_NL_NULL, "null"),
    (r"empty|an\s+empty\s+string", "empty"),
]  # fmt: skip
_SCHEMA_WORDS = re.compile(
    r"\b(?:default|defaults|not\s+null|nullable|required|optional|unique|index|indexes|primary\s+key|"
    r"foreign\s+key|constraint|type|enum|extension)\b"
)


# words that start a step to plan ("make it NOT NULL", "drop x", "set y to 1")
_STEP_START = re.compile(
    rf"^\s*(?:please\s+)?(?:also\s+)?(?:and\s+)?(?:then\s+)?(?:{VERBS}|{_FUNCTIONS}|add|create|introduce|drop|"
    r"remove|delete|rename|index|make|alter|put|mark|copy|move|split|merge|get\s+rid\s+of)\b",
    re.I,
)
# what not to do, or how to do it: constraints on the plan, not steps of it
_CONSTRAINT = re.compile(
    r"^\s*(?:and\s+)?(?:please\s+)?(?:(?:do\s+not|don'?t|never|no|without|not)\b|keep\b|leave\b|"
    r"(?:this\s+is\s+)?(?:data|only)\b)",
    re.I,
)


def context_only(text: str) -> bool:
    """Whether `text` (what follows a planned clause) holds no further step: each of its
    sentences and clauses is a constraint ("don't touch the schema", "keep price_cents",
    "data only") or context ("appointments is ~5M rows and busy", "so the job can stop
    joining"), none starts with a verb of a change."""
    masked = mask(text)
    parts = re.split(r"\s*;\s*|[.!?](?:\s+|$)|,\s*(?:and\s+)?(?:then\s+)?|\s+and\s+then\s+", masked)
    pos = 0
    for part in parts:
        start = masked.find(part, pos)
        pos = start + len(part)
        words = text[start:pos]
        if not words.strip() or re.fullmatch(_FILLER, words, re.I):
            continue
        if _CONSTRAINT.match(words):
            continue
        if _STEP_START.match(words):
            return False
    return True


def _refuse(problem: str, considered: list[str] | None = None) -> UnderstandingError:
    return UnderstandingError(problem, considered, f"rephrase it, {EXAMPLE}")


def mask(text: str) -> str:
    """`text` with quoted strings and parenthesised parts blanked (same length), so
    keywords are found only at the top level."""
    out = list(text)
    depth, quote = 0, None
    for i, ch in enumerate(text):
        if quote:
            out[i] = "\x01"
            if ch == quote:
                quote = None
        elif (
            ch == "'" and 0 < i < len(text) - 1 and text[i - 1].isalpha() and text[i + 1].isalpha()
        ):
            continue  # an apostrophe in a word ("we're", "booking's"), not a quote
        elif ch in "'\"":
            quote = ch
            out[i] = "\x01"
        elif ch == "(":
            depth += 1
            out[i] = "(" if depth == 1 else "\x01"
        elif ch == ")":
            depth = max(depth - 1, 0)
            out[i] = ")" if depth == 0 else "\x01"
        elif depth:
            out[i] = "\x01"
    return "".join(out)


@dataclass
class _Span:
    start: int
    end: int


def _first(pattern: str, masked: str, start: int = 0) -> _Span | None:
    """The first top-level match of `pattern` in masked text from `start` (not inside
    CASE ... END)."""
    for m in re.finditer(pattern, masked[start:], re.I):
        before = masked[start : start + m.start()].lower()
        if len(re.findall(r"\bcase\b", before)) > len(re.findall(r"\bend\b", before)):
            continue
        return _Span(m.start() + start, m.end() + start)
    return None


# ------------------------------------------------------------------ SQL pieces
class _Refs(Visitor):
    def __init__(self) -> None:
        self.refs: list[tuple[str, ...]] = []
        self.sublinks = 0

    def visit_ColumnRef(self, ancestors, node) -> None:
        names = []
        for f in node.fields:
            names.append(getattr(f, "sval", "*"))
        self.refs.append(tuple(names))

    def visit_SubLink(self, ancestors, node) -> None:
        self.sublinks += 1


@dataclass
class Scope:
    """The tables a value or condition may read: the target and joinable others."""

    table: Table
    tables: list[Table]  # every table of the schema
    joined: list[Table] = field(default_factory=list)  # other tables the SQL reads

    def other(self, name: str) -> Table | None:
        for t in self.tables:
            if name.lower() in (t.name.lower(), t.qualified_name.lower()):
                return t
        return None


def _columns_of(t: Table) -> str:
    return f"columns of {t.name}: {', '.join(c.name for c in t.columns)}"


def _resolve_refs(refs: list[tuple[str, ...]], scope: Scope, what: str) -> list[str]:
    """Check every column reference; return the bare names that are not columns of
    the target (the caller may read a lone word as a literal)."""
    unknown: list[str] = []
    for ref in refs:
        if len(ref) == 1:
            if ref[0] == "*" or scope.table.column(ref[0]) is None:
                unknown.append(ref[0])
            continue
        if len(ref) == 3:
            ref = (f"{ref[0]}.{ref[1]}", ref[2])
        if len(ref) != 2:
            raise _refuse(f"could not read the column reference {'.'.join(ref)} in {what}")
        tname, cname = ref
        t = scope.table if tname.lower() == scope.table.name.lower() else scope.other(tname)
        if t is None:
            raise _refuse(f"{what} names {tname}.{cname}, but there is no table {tname}")
        if t.column(cname) is None:
            raise _refuse(
                f"{what} names {tname}.{cname}, but {t.name} has no column {cname}",
                [_columns_of(t)],
            )
        if t is not scope.table and t not in scope.joined:
            scope.joined.append(t)
    return unknown


def _parse(sql: str, prefix: str, what: str, raw: str) -> ast.SelectStmt:
    try:
        stmts = parse_sql(prefix + sql)
    except ParseError as exc:
        raise _refuse(f"could not read {raw!r} as SQL ({exc}) in {what}") from None
    if len(stmts) != 1:
        rest = (prefix + sql)[stmts[1].stmt_location :].strip(" ;")
        raise _refuse(f"{what}: the request goes on with a second statement, not planned: {rest!r}")
    stmt = stmts[0].stmt
    if not isinstance(stmt, ast.SelectStmt):
        raise _refuse(f"could not read {raw!r} as SQL in {what}")
    return stmt


@dataclass
class Value:
    sql: str
    assumption: str | None = None


def read_value(raw: str, scope: Scope, column: str, *, words_as_text: bool = True) -> Value:
    """The SQL of a value written in a request, exactly as written (or a word read as a
    value); raises naming what it could not read."""
    text = raw.strip().strip("`").strip().rstrip(".").strip()
    what = f"the value {text!r} for {scope.table.name}.{column}"
    if not text:
        raise _refuse(f"no value given for {scope.table.name}.{column}")
    low = text.lower()
    for pattern, sql in _WORD_VALUES:
        if re.fullmatch(pattern, low):
            return Value(sql)
    described = _described_ref(text)
    if described is not None:
        ref, words = described
        value = read_value(ref, scope, column, words_as_text=False)
        return Value(value.sql, f"'{words}' read as {value.sql}, the column it names")
    stmt = _parse(text, "SELECT ", what, text)
    if not stmt.targetList or stmt.fromClause or stmt.whereClause or stmt.groupClause:
        raise _refuse(f"could not read {what} as one SQL value")
    if len(stmt.targetList) != 1:
        raise _refuse(f"{what} is more than one value")
    target = stmt.targetList[0]
    v = _Refs()
    v(target)
    if v.sublinks:
        raise _refuse(
            f"{what} has a subquery; the offline planner drafts joins through a foreign key only"
        )
    if target.name:
        raise _refuse(f"could not read {what}: write text values in quotes, e.g. 'unknown'")
    unknown = _resolve_refs(v.refs, scope, what)
    if unknown:
        col = scope.table.column(column)
        # a lone word for a text column is a text value ("set phone to unknown"), unless
        # it looks like an identifier (a column that does not exist is no value)
        word = words_as_text and re.fullmatch(r"[a-z][a-z-]*", text, re.I)
        if len(v.refs) == 1 and word and col is not None and type_family(col.type) in ("text",):
            literal = "'" + text.replace("'", "''") + "'"
            return Value(
                literal,
                f"{text} read as the text value {literal} ({scope.table.name} has no column {text})",
            )
        raise _refuse(
            f"{what} names {', '.join(unknown)}, which is not a column of {scope.table.name}",
            [_columns_of(scope.table)],
        )
    typed = find_type(text)
    if typed and typed[1] == 0 and not v.refs and "'" not in text:
        raise _refuse(f"{what} reads like a type, not a value")
    return Value(text)


def _described_ref(text: str) -> tuple[str, str] | None:
    """(column reference, words) for a value told in words that name the column in
    parentheses: "each booking's event (events.starts_at)", "the clinic of the
    practitioner (practitioners.clinic_id)"; None for anything else."""
    m = re.fullmatch(r"([a-z][\w' -]*?)\s*\(\s*([a-z_]\w*(?:\.[a-z_]\w*){0,2})\s*\)", text, re.I)
    if m is None or (not re.search(r"\s", m.group(1).strip()) and "'" not in m.group(1)):
        return None  # "lower(email)": a function call, not words
    return m.group(2), m.group(1).strip()


def read_condition(raw: str, scope: Scope, column: str, *, qualify: bool = False) -> str:
    """The SQL condition of a request's `where ...`: a few words ("it is null",
    "missing", "null or empty") or SQL over the row, kept exactly."""
    text = raw.strip().rstrip(".").strip()
    what = f"the condition {text!r}"
    col = scope.table.column(column)
    ref = (
        f"{quote_ident(scope.table.name)}.{quote_ident(column)}" if qualify else quote_ident(column)
    )
    low = re.sub(r"\s+", " ", text.lower())
    subject = rf"(?:(?:it|they|this|that|the\s+(?:value|column|field)|{re.escape(column.lower())}|{re.escape(column.lower().replace('_', ' '))})(?:'s)?\s+)?"
    copula = r"(?:(?:is|are|was|were|has\s+been|have\s+been|is\s+still|are\s+still)\s+)?"
    for pattern, kind in _NL_PREDICATES:
        if re.fullmatch(subject + copula + rf"(?:{pattern})", low):
            if (
                kind in ("empty", "null_or_empty")
                and col is not None
                and type_family(col.type) != "text"
            ):
                raise _refuse(
                    f"{what}: {scope.table.name}.{column} is {col.type}, it cannot be empty"
                )
            return {
                "null": f"{ref} IS NULL",
                "not_null": f"{ref} IS NOT NULL",
                "empty": f"{ref} = ''",
                "null_or_empty": f"{ref} IS NULL OR {ref} = ''",
            }[kind]
    sql = (
        re.sub(r"^\s*it\b", quote_ident(column), text, flags=re.I)
        if not scope.table.column("it")
        else text
    )
    stmt = _parse(sql, "SELECT 1 WHERE ", what, text)
    v = _Refs()
    if stmt.whereClause is not None:
        v(stmt.whereClause)
    if v.sublinks:
        raise _refuse(f"{what} has a subquery; not planned offline")
    unknown = _resolve_refs(v.refs, scope, what)
    if unknown:
        raise _refuse(
            f"could not read {what}: {', '.join(unknown)} is not a column of {scope.table.name}",
            [_columns_of(scope.table)],
        )
    return sql


def canonical(sql: str) -> str:
    """A comparable form of an SQL value: parsed and printed, table qualifiers dropped."""
    try:
        from pglast.stream import RawStream

        stmt = parse_sql("SELECT " + sql)[0].stmt
        if not isinstance(stmt, ast.SelectStmt) or not stmt.targetList:
            raise ValueError(sql)
        text = RawStream()(stmt.targetList[0])
    except Exception:
        text = sql
    parts = re.split(r"('(?:[^']|'')*')", text)
    for i in range(0, len(parts), 2):
        parts[i] = re.sub(r"\b[a-z_]\w*\.(?=[a-z_\"])", "", parts[i].lower())
        parts[i] = re.sub(r"\s+", "", parts[i])
    return "".join(parts)


# ------------------------------------------------------------------ joins
def _join(scope: Scope, via: str | None) -> tuple[str, str, str]:
    """(from_sql, join_on, assumption) joining the one other table the value reads."""
    if len(scope.joined) != 1:
        raise _refuse(
            f"the value reads {len(scope.joined)} other tables ({', '.join(t.name for t in scope.joined)}); "
            "the offline planner joins one table through a foreign key"
        )
    t, src = scope.table, scope.joined[0]
    pk = next((k for k in src.constraints if k.kind == "primary_key"), None)
    tq, sq = quote_table(t.qualified_name), quote_table(src.qualified_name)
    if via:
        vcol = via.split(".")[-1]
        if via.count(".") and via.split(".")[-2].lower() not in (
            t.name.lower(),
            t.qualified_name.lower(),
        ):
            raise _refuse(f"join through {via!r}: name a column of {t.name}")
        lc = t.column(vcol)
        if lc is None:
            raise _refuse(f"join through {via!r}: {t.name} has no column {vcol}", [_columns_of(t)])
        fk = next(
            (
                k
                for k in t.constraints
                if k.kind == "foreign_key"
                and k.columns == [lc.name]
                and k.ref_table == src.qualified_name
            ),
            None,
        )
        ref_cols = fk.ref_columns if fk else (pk.columns if pk and len(pk.columns) == 1 else None)
        if not ref_cols:
            raise _refuse(f"{src.name} has no single-column key for {t.name}.{lc.name} to join to")
        on = f"{sq}.{quote_ident(ref_cols[0])} = {tq}.{quote_ident(lc.name)}"
        return sq, on, f"{t.name} joined to {src.name} on {on}"
    fks = [
        k for k in t.constraints if k.kind == "foreign_key" and k.ref_table == src.qualified_name
    ]
    if len(fks) > 1:
        raise _refuse(
            f"{t.name} has {len(fks)} foreign keys to {src.name}; say which one, e.g. 'via {t.name}.{fks[0].columns[0]}'"
        )
    if fks:
        on = " AND ".join(
            f"{sq}.{quote_ident(rc)} = {tq}.{quote_ident(lc)}"
            for lc, rc in zip(fks[0].columns, fks[0].ref_columns, strict=False)
        )
        return sq, on, f"{t.name} joined to {src.name} through its foreign key {fks[0].name}"
    cand = t.column(f"{singular(src.name)}_id")
    if cand is not None and pk is not None and len(pk.columns) == 1:
        on = f"{sq}.{quote_ident(pk.columns[0])} = {tq}.{quote_ident(cand.name)}"
        return (
            sq,
            on,
            f"{t.name} joined to {src.name} on {on} (by the column's name: there is no foreign key)",
        )
    raise _refuse(
        f"no foreign key from {t.name} to {src.name} to join on",
        [
            f"say which column of {t.name} points at {src.name}, e.g. 'via {t.name}.{singular(src.name)}_id'"
        ],
    )


# ------------------------------------------------------------------ a data statement
@dataclass
class _Reading:
    verb: str
    target: str  # the words naming the column (conditions in them still)
    value: str
    condition: str | None
    via: str | None
    understood: str  # the request up to where it was read
    leftover: str  # what follows, not read
    replace_old: str | None = None  # "replace <old> with <new>"
    function: str | None = None  # "lowercase <column>": lower(<column>)


def _split_rest(text: str, masked: str, start: int) -> tuple[str, str | None, str | None, str, int]:
    """After the separator: (value, condition, via, leftover, end of what was read)."""
    b = _first(_BOUNDARY, masked, start)
    end = b.start if b else len(text)
    leftover = text[b.end :] if b else ""
    seg_masked = masked[start:end]
    via = None
    vm = re.search(
        r"\s+(?:via|through|joined\s+(?:on|by|through)|(?:matched|joined)\s+(?:on|by))\s+([a-z_][\w.]*)\s*$",
        seg_masked,
        re.I,
    )
    cond = None
    c = _first(_COND, masked[:end], start)
    if c:
        value_end, cond = c.start, text[c.end : end]
        if vm and start + vm.start() > c.start:
            via, cond = (
                text[start + vm.start(1) : start + vm.end(1)],
                text[c.end : start + vm.start()],
            )
        elif vm is None:
            vm2 = re.search(
                r"\s+(?:via|through)\s+([a-z_][\w.]*)\s*$", masked[start : c.start], re.I
            )
            if vm2:
                via = text[start + vm2.start(1) : start + vm2.end(1)]
                value_end = start + vm2.start()
    else:
        value_end = end
        if vm:
            via = text[start + vm.start(1) : start + vm.end(1)]
            value_end = start + vm.start()
    value = text[start:value_end]
    # "... for all rows", "... first" after the value: scope words, not part of it
    sm = re.search(
        rf"[\s,]+(?:{_SCOPE_ALL}|first|please)\s*[.!]?\s*$", masked[start:value_end], re.I
    )
    if sm:
        value = text[start : start + sm.start()]
    if cond is not None:
        cm = re.search(rf"\s+(?:{_SCOPE_ALL}|first|please)\s*[.!]?\s*$", cond, re.I)
        if cm:
            cond = cond[: cm.start()]
    return value, cond, via, leftover, end


def read_statement(request: str) -> _Reading | None:
    """The request read as one data statement, or None when it is not one."""
    text = request.strip()
    masked = mask(text)
    low = masked.lower()
    lead_cond = None
    offset = 0
    lm = re.match(
        r"^\s*(?:for\s+(?:all\s+)?(?:the\s+)?(?:rows|records)\s+(?:where|that|which|with)|where|wherever|if)\s+(.+?),\s*(?:please\s+)?",
        low,
    )
    if lm:
        lead_cond, offset = text[lm.start(1) : lm.end(1)], lm.end()
    # SQL: update <table> set <col> = <value> [where <condition>]
    sm = re.match(
        r"^\s*(?:please\s+)?update\s+([a-z_][\w.]*)\s+set\s+([a-z_]\w*)\s*=\s*", low[offset:]
    )
    if sm:
        value, cond, via, leftover, end = _split_rest(text, masked, offset + sm.end())
        return _Reading(
            "update",
            f"{text[offset + sm.start(1) : offset + sm.end(1)]}.{text[offset + sm.start(2) : offset + sm.end(2)]}",
            value,
            cond or lead_cond,
            via,
            text[:end],
            leftover,
        )
    # in <column> replace <old> with <new>  /  replace <old> with <new> in <column>
    rm = re.match(r"^\s*in\s+(\S+(?:\s+of\s+\S+)?)\s*,?\s+replace\s+(.+?)\s+with\s+", low[offset:])
    if rm:
        value, cond, via, leftover, end = _split_rest(text, masked, offset + rm.end())
        return _Reading(
            "replace",
            text[offset + rm.start(1) : offset + rm.end(1)],
            value,
            cond or lead_cond,
            via,
            text[:end],
            leftover,
            replace_old=text[offset + rm.start(2) : offset + rm.end(2)],
        )
    # lowercase/uppercase/trim <column>, normalise <column> to lowercase
    fm = re.match(
        rf"^\s*(?:please\s+)?({_FUNCTIONS})\s+(?:(?:the\s+|all\s+|any\s+)*(?:leading\s+(?:and|&)\s+trailing\s+)?"
        r"(?:whitespace|white\s+space|spaces|blanks)\s+(?:from|off|of|in|around)\s+)?",
        low[offset:],
    ) or re.match(r"^\s*(?:please\s+)?normali[sz](?:e|es|ed|ing)\s+", low[offset:])
    if fm:
        t0 = offset + fm.end()
        end_m = _first(_BOUNDARY, masked, t0)
        end = end_m.start if end_m else len(text)
        target, function = text[t0:end], None
        if fm.lastindex:
            function = _base(fm.group(1), _FUNCTION_VERBS)
        else:
            nm = re.search(r"\s+(?:to|into|as|in)\s+(lower|upper)\s*[- ]?case\s*$", low[t0:end])
            if not nm:
                return None
            target, function = (
                text[t0 : t0 + nm.start()],
                {"lower": "lower", "upper": "upper"}[nm.group(1)],
            )
        return _Reading(
            function,
            target,
            "",
            lead_cond,
            None,
            text[:end],
            text[end_m.end :] if end_m else "",
            function=function,
        )
    # copy <value> into <column> [where ...]
    cm = re.match(r"^\s*(?:please\s+)?cop(?:y|ies|ying)\s+", low[offset:])
    if cm:
        into = re.search(r"\s+(?:into|to|onto|over\s+to)\s+", low[offset + cm.end() :])
        if not into:
            return None
        v0 = offset + cm.end()
        t0 = v0 + into.end()
        b = _first(_BOUNDARY + r"|\s*,\s*", masked, t0)  # after the target: another clause
        end = b.start if b else len(text)
        c = _first(_COND, masked[:end], t0)
        return _Reading(
            "fill",
            text[t0 : c.start if c else end],
            text[v0 : v0 + into.start()],
            (text[c.end : end] if c else None) or lead_cond,
            None,
            text[:end],
            text[b.end :] if b else "",
        )
    # <column> should become / gets <value>
    sf = re.match(rf"^\s*([^,;]+?){_SUBJECT_FIRST}", low[offset:])
    if sf and not re.match(
        rf"\s*(?:{VERBS}|make|add|drop|create|index|rename|remove)\b", low[offset:]
    ):
        value, cond, via, leftover, end = _split_rest(text, masked, offset + sf.end())
        return _Reading(
            "become",
            text[offset + sf.start(1) : offset + sf.end(1)],
            value,
            cond or lead_cond,
            via,
            text[:end],
            leftover,
        )
    vm = re.match(rf"^\s*(?:please\s+)?({VERBS})\s+", low[offset:])
    if not vm:
        return None
    sep = re.search(_SEP, low[offset + vm.end() :])
    if not sep:
        return None
    t0 = offset + vm.end()
    target = text[t0 : t0 + sep.start()]
    rest_start = t0 + sep.end()
    value, cond, via, leftover, end = _split_rest(text, masked, rest_start)
    verb = _base(vm.group(1), _VERB_FORMS)
    old = None
    if verb == "replace":
        rm2 = re.match(r"^(.+?)\s+in\s+(\S+(?:\s+of\s+\S+)?)$", value.strip(), re.I)
        tm = re.match(r"^\s*('(?:[^']|'')*'|null|-?\d+(?:\.\d+)?)\s*$", target, re.I)
        if tm and rm2:
            old, target, value = tm.group(1), rm2.group(2), rm2.group(1)
    return _Reading(
        verb, target, value, cond or lead_cond, via, text[:end], leftover, replace_old=old
    )


def _statement_after_context(request: str) -> _Reading | None:
    """The data statement of a request that opens with context ("Pay runs imported
    from the old system have no currency. Set pay_runs.currency to 'GBP' where it is
    NULL."): the first sentence that reads as one, when what comes before it is context
    only (no step, no schema word)."""
    text = request.strip()
    masked = mask(text)
    for m in re.finditer(r"[.!?]\s+", masked):
        before = text[: m.start()]
        if (
            not context_only(before)
            or _SCHEMA_WORDS.search(before.lower())
            or _ASKS.search(before.lower())
        ):
            return None
        reading = read_statement(text[m.end() :])
        if reading is not None:
            return reading
    return None


def _target(reading: _Reading, planner: Ctx) -> tuple[Table, str, str | None] | None:
    """(table, column, condition from the target's words) or None when the target
    names no column."""
    words = reading.target.strip()
    cond = None
    lead = re.match(
        r"^((?:the|all|any|every|existing|old|current)\s+)*(null|nulls|missing|empty|blank|unset)\s+",
        words,
        re.I,
    )
    if lead:
        cond, words = lead.group(2).lower(), words[lead.end() :]
    else:
        lit = re.match(
            r"^((?:the|all|any|every)\s+)*('(?:[^']|'')*'|-?\d+(?:\.\d+)?)\s+(?=[a-z_])",
            words,
            re.I,
        )
        if lit:  # "change all 'N/A' phones to NULL": the rows holding that value
            cond, words = "=" + lit.group(2), words[lit.end() :]
    trail = re.search(
        r"\s+(?:without\s+(?:one|any|a\s+value|an?\s+\w+)|with\s+no\s+\w+(?:\s+\w+)?|that\s+(?:is|are)\s+(?:null|missing|empty|blank)|"
        r"(?:which|that)\s+(?:has|have)\s+none|where\s+(?:it\s+is\s+|they\s+are\s+)?(?:null|missing|empty))$",
        words,
        re.I,
    )
    tail = ""
    if trail:
        tail = trail.group(0)
        low_tail = tail.lower()
        cond = "empty" if "empty" in low_tail else "blank" if "blank" in low_tail else "null"
        words = words[: trail.start()]
    r = Resolver(planner.snap, words)
    dotted = r.dotted()
    if dotted:
        m, col = dotted[0]
        c = r.column_named(m.table, col, fuzzy=False)
        if c is None:
            raise _refuse(f"{m.table.name} has no column {col}", [_columns_of(m.table)])
        return m.table, c, cond
    try:
        t = r.subject_table(required=False)
    except UnderstandingError:
        t = None
    if t is None:
        try:
            t = planner.r.subject_table(required=False)
        except UnderstandingError:
            return None
    if t is None:
        return None
    cols = []
    for m in r.column_mentions(t):
        if m.column not in cols:
            cols.append(m.column)
    if not cols and tail:  # "customers with no phone": the column is in the condition
        for m in Resolver(planner.snap, tail).column_mentions(t):
            if m.column not in cols:
                cols.append(m.column)
    if len(cols) != 1:
        return None
    return t, cols[0], cond


def _target_condition(word: str, scope: Scope, column: str, qualify: bool) -> str:
    return read_condition(
        "null or empty" if word == "blank" else word, scope, column, qualify=qualify
    )


def plan_data_statement(planner: Ctx, *, final: bool = False) -> P.DraftPlan | None:
    """The data intent: a request that sets a column of existing rows (see module doc).

    "set/update/replace <column> to <words>" may be another intent's ("set
    orders.customer_id to reference customers"): unless `final` (the planner's
    last attempt), such a request whose value is not SQL is left to the others."""
    reading = read_statement(planner.request) or _statement_after_context(planner.request)
    if reading is None:
        return None
    found = _target(reading, planner)
    if found is None:
        return None
    t, column, target_cond = found
    if reading.verb in ("default", "change") and not (
        target_cond or reading.condition or reading.replace_old
    ):
        return None  # "default x to 'y'", "change x to text": the column, not its rows
    words = re.sub(
        rf"\b{re.escape(column.lower())}\b", " ", f"{reading.target} {mask(reading.value)}".lower()
    )
    if _SCHEMA_WORDS.search(words):
        return None  # "set the default ...", "update the column type ...": another intent's
    if re.fullmatch(
        r"\s*(?:not\s+null|nullable|required|optional|unique|mandatory|an?\s+\w+\s+(?:column|type|index))\s*",
        reading.value,
        re.I,
    ):
        return None
    bare = re.sub(r"^\s*(?:an?|the)\s+", "", reading.value).strip()
    ft = find_type(bare)
    if ft and ft[1] == 0 and ft[2] >= len(bare) - 1 and "'" not in bare:
        return None  # "set x to varchar(100)": a type change
    leftover = reading.leftover.strip()
    if leftover and not re.fullmatch(_FILLER, leftover, re.I) and not context_only(leftover):
        raise _refuse(
            f"I understood {reading.understood.strip()!r} but not {leftover!r}",
            ["the offline planner drafts one data change per request"],
        )
    scope = Scope(t, planner.r.tables)
    if reading.function:
        return _function_plan(planner, t, column, reading)
    try:
        value = read_value(reading.value, scope, column, words_as_text=reading.verb != "replace")
    except UnderstandingError:
        if not final and (
            reading.verb == "become"  # "display names get cut off at 50 chars": not a value
            or (reading.verb in ("set", "update", "replace") and not _sql_like(reading.value))
        ):
            return None
        raise
    qualify = bool(scope.joined)
    assumptions: list[str] = []
    if value.assumption:
        assumptions.append(value.assumption)
    conds: list[str] = []
    if target_cond and target_cond.startswith("="):
        ref = f"{quote_ident(t.name)}.{quote_ident(column)}" if qualify else quote_ident(column)
        conds.append(f"{ref} = {target_cond[1:]}")
    elif target_cond:
        conds.append(_target_condition(target_cond, scope, column, qualify))
    if reading.replace_old is not None:
        old = read_value(reading.replace_old, Scope(t, planner.r.tables), column).sql
        ref = quote_ident(column)
        conds.append(f"{ref} IS NULL" if old.upper() == "NULL" else f"{ref} = {old}")
    if reading.condition is not None:
        conds.append(read_condition(reading.condition, scope, column, qualify=qualify))
    from_sql = join_on = None
    if scope.joined:
        from_sql, join_on, how = _join(scope, reading.via)
        assumptions.append(how)
    elif reading.via:
        raise _refuse(f"'via {reading.via}' joins nothing: the value reads only {t.name}")
    if (
        not conds
        and reading.verb in ("fill", "backfill", "populate")
        and not re.search(
            r"\b(?:all|every|each|overwrite|overwriting|recompute|existing\s+values)\b",
            mask(planner.request).lower(),
        )
    ):
        ref = f"{quote_ident(t.name)}.{quote_ident(column)}" if qualify else quote_ident(column)
        conds.append(f"{ref} IS NULL")
        assumptions.append(
            f"'{reading.verb}' fills the rows where {t.name}.{column} IS NULL and leaves values already set (say 'all rows' to overwrite them)"
        )
    where = (
        " AND ".join(
            f"({c})" if re.search(r"\bor\b", c, re.I) and len(conds) > 1 else c for c in conds
        )
        or None
    )
    op = P.Backfill(
        table=t.qualified_name,
        column=column,
        value=value.sql,
        where=where,
        from_sql=from_sql,
        join_on=join_on,
    )
    planner.assumptions.extend(assumptions)
    planner.warnings.append(
        f"a data migration: the downgrade cannot restore the previous values of {t.name}.{column}"
    )
    intent = f"Set {t.name}.{column} to {value.sql}" + (f" where {where}" if where else "")
    result = planner.plan(intent, [op], f"set_{t.name}_{column}")
    result.categories = [*result.categories, "data_migration", "backfill", "data_statement"]
    result.irreversible = _irreversible(t.name, column)
    return result


def _function_plan(planner: Ctx, t: Table, column: str, reading: _Reading) -> P.DraftPlan:
    """`lowercase customers.email`: email = lower(email) on the rows it changes."""
    col = t.column(column)
    if col is None:
        raise _refuse(f"{t.name} has no column {column}", [_columns_of(t)])
    if type_family(col.type) != "text":
        raise _refuse(
            f"{t.name}.{column} is {col.type}, not text: {reading.function}() does not apply"
        )
    ref = quote_ident(column)
    value = f"{reading.function}({ref})"
    conds = [f"{ref} <> {value}"]
    if reading.condition is not None:
        conds.append(read_condition(reading.condition, Scope(t, planner.r.tables), column))
    where = " AND ".join(f"({c})" if re.search(r"\bor\b", c, re.I) else c for c in conds)
    planner.assumptions.append(
        f"'{reading.target.strip()}' {reading.function}: {t.name}.{column} = {value}, "
        f"only on the rows it changes ({conds[0]})"
    )
    planner.warnings.append(
        f"a data migration: the downgrade cannot restore the previous values of {t.name}.{column}"
    )
    op = P.Backfill(table=t.qualified_name, column=column, value=value, where=where)
    result = planner.plan(
        f"Set {t.name}.{column} to {value}", [op], f"{reading.function}_{t.name}_{column}"
    )
    result.categories = [*result.categories, "data_migration", "backfill", "data_statement"]
    result.irreversible = _irreversible(t.name, column)
    return result


def _sql_like(value: str) -> bool:
    """Whether `value` parses as one SQL value (else it is words: maybe another intent's,
    "set x to be non-negative", "update x to reference y")."""
    try:
        stmts = parse_sql("SELECT " + value)
    except ParseError:
        return False
    targets = getattr(stmts[0].stmt, "targetList", None) or []
    return len(stmts) == 1 and len(targets) == 1 and not targets[0].name


def _irreversible(table: str, column: str) -> str:
    return (
        f"a data migration: the previous values of {table}.{column} are not kept anywhere, "
        "so the downgrade leaves the rows as they are"
    )


# ------------------------------------------------------------------ every clause accounted for
@dataclass
class _Clause:
    start: int
    text: str
    target: str
    value: str
    condition: str | None
    via: str | None


def data_clauses(request: str) -> list[_Clause]:
    """The data clauses of a request ("backfilled from ...", "backfilling NULLs with ...")
    with a value; clauses without one ("backfill it", "the app fills it in") are not."""
    text = request.strip()
    masked = mask(text)
    low = masked.lower()
    out: list[_Clause] = []
    for m in _CLAUSE.finditer(low):
        if any(c.start <= m.start() < c.start + len(c.text) for c in out):
            continue
        b = _first(_BOUNDARY, masked, m.end())
        end = b.start if b else len(text)
        seg = low[m.end() : end]
        if re.search(r"(?:get|become|be)\s+$|(?:become|get)\s+$", low[m.start() : m.end()]):
            sep_end, target = 0, ""
        else:
            sep = re.search(_SEP, seg)
            if not sep:
                continue
            target, sep_end = text[m.end() : m.end() + sep.start()], sep.end()
            # "fill it for every existing course from ...": scope words, not the target
            target = re.sub(rf"\s+(?:{_SCOPE_ALL})\s*$", "", target, flags=re.I)
            target = re.sub(r"^(\s*(?:it|them|those))\s+in\s*$", r"\1", target, flags=re.I)
        value, cond, via, _leftover, _end = _split_rest(text, masked, m.end() + sep_end)
        if not value.strip():
            continue
        out.append(_Clause(m.start(), text[m.start() : end], target, value, cond, via))
    return out


def _subjects(plan: P.DraftPlan) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    for op in plan.operations:
        key = None
        if isinstance(op, P.AddColumn):
            key = (op.table, op.column.name)
        elif isinstance(op, P.SetNotNull | P.Backfill | P.SetDefault | P.AlterColumnType):
            key = (op.table, op.column)
        if key and key not in seen:
            seen.append(key)
    return seen


def _honoured(plan: P.DraftPlan, table: str, column: str, value: str) -> bool | None:
    """True: the plan sets the column to this value; False: to another value; None: not at all."""
    want = canonical(value)
    other = False
    for op in plan.operations:
        if getattr(op, "table", None) != table:
            continue
        got = None
        if isinstance(op, P.Backfill) and op.column == column:
            got = op.value
        elif isinstance(op, P.SetNotNull) and op.column == column and op.backfill:
            got = op.backfill
        elif isinstance(op, P.AddColumn) and op.column.name == column and op.column.default:
            got = op.column.default
        elif isinstance(op, P.SetDefault) and op.column == column and op.default:
            got = op.default
        elif isinstance(op, P.AlterColumnType) and op.column == column and op.using:
            got = op.using
        if got is None:
            continue
        if canonical(got) == want:
            return True
        other = True
    return False if other else None


def _not_understood(request: str, clause: _Clause, why: str = "") -> UnderstandingError:
    understood = re.sub(
        r"[\s,;:]+(?:and|then|and\s+then)?\s*$", "", request.strip()[: clause.start]
    ).strip()
    problem = (
        f"I understood {understood!r} but not {clause.text.strip()!r}"
        if understood
        else f"could not plan {clause.text.strip()!r}"
    )
    return _refuse(problem + (f": {why}" if why else ""))


def account_data_clauses(plan: P.DraftPlan, request: str, facts: P.Facts) -> P.DraftPlan:
    """Every data clause of `request` honoured by `plan`, planned into it, or refused."""
    if "data_statement" in plan.categories:
        return plan
    clauses = data_clauses(request)
    if not clauses:
        return plan
    snap = facts.snapshot
    tables = [t for t in snap.tables.values() if not t.partition_of]
    subjects = _subjects(plan)
    for clause in clauses:
        key = _clause_subject(clause, subjects, snap, request)
        if key is None:
            raise _not_understood(request, clause, "could not tell which column it fills")
        table, column = key
        t = snap.table(table)
        added = next(
            (
                op
                for op in plan.operations
                if isinstance(op, P.AddColumn) and op.table == table and op.column.name == column
            ),
            None,
        )
        if t is None:
            raise _not_understood(request, clause)
        if added is not None:
            t = t.model_copy(deep=True)
            from migagent.tools.introspect.model import Column

            t.columns.append(Column(name=column, type=added.column.type, nullable=True))
        scope = Scope(t, tables)
        try:
            value = read_value(clause.value, scope, column)
            cond = (
                read_condition(clause.condition, scope, column, qualify=bool(scope.joined))
                if clause.condition
                else None
            )
            nulls = _NULLS_TARGET.match(clause.target.strip().lower())
            said = re.search(r"null|missing|empty|blank", clause.target.lower())
            if cond is None and nulls and said:
                word = said.group(0)
                cond = _target_condition(
                    "null" if word == "missing" else word, scope, column, bool(scope.joined)
                )
        except UnderstandingError as exc:
            raise _not_understood(request, clause, exc.problem) from None
        state = _honoured(plan, table, column, value.sql)
        if state is True:
            continue
        if state is False:
            raise _not_understood(
                request, clause, f"the plan sets {t.name}.{column} to another value"
            )
        try:
            join = _join(scope, clause.via) if scope.joined else None
        except UnderstandingError as exc:
            raise _not_understood(request, clause, exc.problem) from None
        _plan_clause(plan, table, column, value, cond, join, added)
        if value.assumption:
            plan.assumptions.append(value.assumption)
        if join:
            plan.assumptions.append(join[2])
        if "backfill" not in plan.categories:
            plan.categories = [*plan.categories, "data_migration", "backfill"]
    return plan


def _clause_subject(clause: _Clause, subjects, snap, request) -> tuple[str, str] | None:
    words = clause.target.strip()
    if words and not _NULLS_TARGET.match(words.lower()):
        r = Resolver(snap, words)
        for m, col in r.dotted():
            c = r.column_named(m.table, col, fuzzy=False)
            if c:
                return m.table.qualified_name, c
        for table, column in subjects:
            t = snap.table(table)
            if t is not None and any(m.column == column for m in r.column_mentions(t)):
                return table, column
            if column.lower() in words.lower().replace(" ", "_"):
                return table, column
        return None
    return subjects[0] if len(subjects) == 1 else None


def _plan_clause(plan: P.DraftPlan, table, column, value: Value, cond, join, added) -> None:
    ops = plan.operations
    from_sql, join_on = (join[0], join[1]) if join else (None, None)
    not_null = next(
        (
            i
            for i, op in enumerate(ops)
            if isinstance(op, P.SetNotNull) and op.table == table and op.column == column
        ),
        None,
    )
    if not_null is not None and added is None:
        op = ops[not_null]
        assert isinstance(op, P.SetNotNull)  # found as one just above
        if (
            op.backfill is None
            and join is None
            and cond in (None, f"{quote_ident(column)} IS NULL")
        ):
            ops[not_null] = op.model_copy(update={"backfill": value.sql})
        else:
            ops.insert(
                not_null,
                P.Backfill(
                    table=table,
                    column=column,
                    value=value.sql,
                    where=cond or f"{quote_ident(column)} IS NULL",
                    from_sql=from_sql,
                    join_on=join_on,
                ),
            )
        plan.warnings[:] = [w for w in plan.warnings if "backfill them first" not in w]
        return
    if added is None:
        raise UnderstandingError(
            f"the request asks to fill {table.split('.')[-1]}.{column}, but the plan neither adds it nor makes it NOT NULL"
        )
    i = ops.index(added)
    ops.insert(
        i + 1,
        P.Backfill(
            table=table,
            column=column,
            value=value.sql,
            where=cond,
            from_sql=from_sql,
            join_on=join_on,
        ),
    )
    if not added.column.nullable and added.column.default is None:
        ops[i] = added.model_copy(
            update={"column": added.column.model_copy(update={"nullable": True})}
        )
        ops.insert(i + 2, P.SetNotNull(table=table, column=column))
        plan.warnings.append(
            f"rows written between the backfill and SET NOT NULL must set {column} (or the last step fails)"
        )


__all__ = [
    "TRIGGER",
    "account_data_clauses",
    "canonical",
    "data_clauses",
    "mask",
    "plan_data_statement",
    "read_condition",
    "read_statement",
    "read_value",
]
