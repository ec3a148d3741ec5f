"""Words -> SQL: types, default values, referential actions, inflection.

Pure functions over request text; no schema knowledge (that is `resolve`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

# ---------------------------------------------------------------- inflection


def singular(word: str) -> str:
    w = word.lower()
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("sses", "xes", "ches", "shes", "zes")):
        return w[:-2]
    if w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) > 3:
        return w[:-1]
    return w


def plural(word: str) -> str:
    w = word.lower()
    if w.endswith("y") and len(w) > 2 and w[-2] not in "aeiou":
        return w[:-1] + "ies"
    if w.endswith(("s", "x", "ch", "sh", "z")):
        return w + "es"
    return w + "s"


def variants(word: str) -> set[str]:
    w = word.lower()
    return {w, singular(w), plural(w), plural(singular(w))}


# ---------------------------------------------------------------- types

_N = r"(\d+)"

# (pattern, type or callable(match) -> type); first match in the text wins by position
_TYPE_PATTERNS: list[tuple[str, str | Callable[[re.Match[str]], str]]] = [
    (
        r"\b(?:character\s+varying|varchar)\s*\(\s*(\d+)\s*\)",
        lambda m: f"character varying({m.group(1)})",
    ),
    (r"\bvarchar\s+(\d+)\b", lambda m: f"character varying({m.group(1)})"),
    (r"\bchar(?:acter)?\s*\(\s*(\d+)\s*\)", lambda m: f"character({m.group(1)})"),
    (
        r"\b(?:up\s+to|at\s+most|max(?:imum)?(?:\s+of)?|no\s+more\s+than|limit(?:ed)?\s+(?:to|at)|cap(?:ped)?\s+(?:at|to)?|capped\s+at)\s+(\d+)\s*(?:characters|chars|letters)\b",
        lambda m: f"character varying({m.group(1)})",
    ),
    (
        r"\b(\d+)\s*(?:-\s*)?(?:characters|chars|char)\b(?:\s+(?:max|long|limit))?",
        lambda m: f"character varying({m.group(1)})",
    ),
    (
        r"\b(?:numeric|decimal)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)",
        lambda m: f"numeric({m.group(1)},{m.group(2)})",
    ),
    (r"\b(?:numeric|decimal)\s*\(\s*(\d+)\s*\)", lambda m: f"numeric({m.group(1)},0)"),
    (
        r"\btimestamp\s*\(\s*(\d)\s*\)\s*with\s+time\s*zone\b",
        lambda m: f"timestamp({m.group(1)}) with time zone",
    ),
    (
        r"\btimestamp\s+with\s+time\s*zone\b|\btimestamptz\b|\btimestamp\s+with\s+tz\b|\b(?:tz|timezone)[- ]aware\s+timestamp\b",
        "timestamp with time zone",
    ),
    (r"\btimestamp\s+without\s+time\s*zone\b|\bnaive\s+timestamp\b", "timestamp without time zone"),
    (r"\btimestamp\b(?!\s*with)", "timestamp without time zone"),
    (r"\bdatetime\b", "timestamp with time zone"),
    (r"\bbig\s*serial\b|\bbigserial\b", "bigserial"),
    (r"\bserial\b", "serial"),
    (
        r"\b(?:bigint|int8|64[- ]?bit(?:\s+(?:integer|int|number))?|big\s+integer|long\s+integer)\b",
        "bigint",
    ),
    (r"\b(?:smallint|int2|16[- ]?bit(?:\s+(?:integer|int))?|small\s+integer)\b", "smallint"),
    (r"\b(?:integer|int4|int|32[- ]?bit(?:\s+(?:integer|int))?|whole\s+number)\b", "integer"),
    (r"\b(?:double\s+precision|float8|double|float)\b", "double precision"),
    (r"\breal\b|\bfloat4\b", "real"),
    (r"\b(?:numeric|decimal)\b", "numeric"),
    (r"\b(?:money|monetary|currency\s+amount)\b", "numeric(12,2)"),
    (r"\bjsonb?\b", "jsonb"),
    (r"\buuids?\b|\bguid\b", "uuid"),
    (r"\bcitext\b", "citext"),
    (r"\b(?:booleans?|bool|true\s*/\s*false|yes\s*/\s*no)\b", "boolean"),
    (r"\b(?:text\s*\[\s*\]|array\s+of\s+(?:text|strings)|list\s+of\s+strings)\b", "text[]"),
    (r"\b(?:integer\s*\[\s*\]|array\s+of\s+(?:integers|ints))\b", "integer[]"),
    (r"\bbytea\b|\bbinary\b|\bblob\b", "bytea"),
    (r"\binet\b|\bip\s+address(?:es)?\b", "inet"),
    (r"\binterval\b|\bduration\b", "interval"),
    (r"\bdate\b", "date"),
    (r"\btime\b", "time without time zone"),
    (r"\btsvector\b", "tsvector"),
    (r"\bhstore\b", "hstore"),
    (r"\bltree\b", "ltree"),
    (r"\btstzrange\b", "tstzrange"),
    (r"\bdaterange\b", "daterange"),
    (
        r"\b(?:unlimited|unbounded)\s+text\b|\btext\b(?!\s*\[)|\bno\s+(?:length\s+)?limit\b|\bunlimited\b",
        "text",
    ),
    (r"\b(?:varchar|character\s+varying|string)\b", "character varying"),
    (r"\b(?:flag)\b", "boolean"),
]


def find_type(text: str) -> tuple[str, int, int] | None:
    """The first SQL type named in `text`: (type, start, end), or None."""
    low = text.lower()
    best: tuple[str, int, int] | None = None
    for pattern, result in _TYPE_PATTERNS:
        for m in re.finditer(pattern, low):
            if re.search(r"\bfull[- ]text\b", low[max(0, m.start() - 6) : m.end()]) or low[
                max(0, m.start() - 5) : m.start()
            ].endswith("full "):
                continue
            t = result(m) if callable(result) else result
            if best is None or m.start() < best[1]:
                best = (t, m.start(), m.end())
            break
    if best is not None and re.fullmatch(r"[a-z]+", low[best[1] : best[2]]):
        # a one-word type before another type is an adjective ("a real date column",
        # "a real integer"): English puts the head noun, the type meant, last
        after = re.match(r"\s+", low[best[2] :])
        if after:
            following = find_type(text[best[2] + after.end() :])
            if following is not None and following[1] == 0:
                return (following[0], best[1], best[2] + after.end() + following[2])
    return best


def find_types(text: str) -> list[str]:
    low = text.lower()
    out: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for pattern, result in _TYPE_PATTERNS:
        for m in re.finditer(pattern, low):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            taken.append((m.start(), m.end()))
            out.append((m.start(), result(m) if callable(result) else result))  # type: ignore[operator]
    return [t for _, t in sorted(out)]


# ---------------------------------------------------------------- defaults

_NOW = r"(?:now\(\)|now|current_timestamp|the\s+current\s+(?:time|timestamp)|current\s+time)"


def parse_value(raw: str, sql_type: str | None = None) -> str | None:
    """SQL for a default/fill value written in words: 'EUR', 0, true, now, empty string."""
    v = raw.strip().rstrip(".,;)").strip()
    low = v.lower()
    if not v:
        return None
    m = (
        re.match(r"^'((?:[^']|'')*)'", v)
        or re.match(r'^"([^"]*)"', v)
        or re.match(r"^`([^`]*)`", v)
    )
    if m:
        return "'" + m.group(1).replace("''", "'").replace("'", "''") + "'"
    if re.match(_NOW + r"\b", low) or low.startswith("now()"):
        if sql_type and sql_type.startswith("date"):
            return "CURRENT_DATE"
        return "now()"
    if re.match(r"^(?:today|current_date|the\s+current\s+date)\b", low):
        return "CURRENT_DATE"
    if re.match(r"^(?:true|yes|on)\b", low):
        return "true"
    if re.match(r"^(?:false|no|off)\b", low):
        return "false"
    if re.match(r"^(?:zero)\b", low):
        return "0"
    if re.match(r"^(?:an?\s+)?empty\s+(?:string|text)\b", low):
        return "''"
    if re.match(r"^(?:an?\s+)?empty\s+(?:object|json)\b", low) or low.startswith("{}"):
        return "'{}'::jsonb"
    if re.match(r"^(?:an?\s+)?empty\s+(?:array|list)\b", low):
        return "'{}'"
    if re.match(r"^(?:gen_random_uuid\(\)?|a\s+random\s+uuid|random\s+uuid|new\s+uuid)", low):
        return "gen_random_uuid()"
    m = re.match(r"^-?\d+(?:\.\d+)?\b", low)
    if m:
        return m.group(0)
    m = re.match(r"^([a-z_][\w-]*)\b", v, re.I)
    if (
        m
        and m.group(1).lower()
        not in (
            "null",
            "the",
            "a",
            "an",
            "it",
            "that",
            "this",
            "be",
            "value",
        )
        and (
            sql_type is None
            or sql_type.startswith(("text", "character", "citext"))
            or sql_type not in ("integer", "bigint", "smallint", "boolean", "numeric", "date")
        )
    ):
        return "'" + m.group(1) + "'"
    return None


REF_ACTIONS = [
    (
        r"\bon\s+delete\s+cascade\b|\bcascad|\bdelete[sd]?\s+(?:its|their)\b|\bdelete\w*\s+\w+\s+(?:with|along\s+with)\s+(?:their|its|the)\b|\bshould\s+(?:also\s+)?(?:delete|remove)\s+(?:its|their|the)\b|\bgo(?:es)?\s+away\b|\b(?:are|is|get|gets)\s+(?:deleted|removed)\s+(?:with|when|along)\b|\bdelete[sd]?\s+(?:with|along\s+with)\b",
        "CASCADE",
    ),
    (
        r"\bon\s+delete\s+set\s+null\b|\bset\s+(?:to\s+)?null\b|\bnull(?:ed)?\s+out\b|\bbecomes?\s+null\b",
        "SET NULL",
    ),
    (r"\bon\s+delete\s+restrict\b|\brestrict\b|\bprevent\w*\s+(?:the\s+)?delet", "RESTRICT"),
    # a join table's rows: "removing the links when either side is deleted"
    (
        r"\b(?:remov|delet|drop|clean)\w*\s+(?:up\s+)?(?:the\s+|its\s+|their\s+)?"
        r"(?:links?|associations?|pairs?|mappings?)\b"
        r"|\b(?:links?|associations?|pairs?|mappings?)\s+(?:go|goes|are\s+(?:removed|deleted)|disappear)",
        "CASCADE",
    ),
]


def ref_action(text: str) -> str | None:
    low = text.lower()
    for pattern, action in REF_ACTIONS:
        if re.search(pattern, low):
            return action
    return None


def snake(words: str) -> str:
    s = re.sub(r"[^\w]+", "_", words.strip().lower())
    return re.sub(r"_+", "_", s).strip("_")


# ---------------------------------------------------------------- quoted identifiers

# what a quoted identifier may hold: PostgreSQL takes anything, but a name with
# quotes, dots, semicolons or parentheses in a one-line request is far likelier a
# mistake (or SQL pasted into the name) than a column someone wants
_QUOTED_OK = re.compile(r"[\w$ -]+")
_QUOTED = re.compile(r'"((?:[^"]|"")*)"')
_WORDISH = re.compile(r"[\w$]")
MAX_IDENTIFIER = 63  # NAMEDATALEN - 1, in bytes


def _token(n: int) -> str:
    letters = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(ord("a") + r) + letters
    return f"qq{letters}qq"


def protect_quoted(text: str) -> tuple[str, dict[str, str]]:
    """Replace every double-quoted identifier by a one-word token; return the text and
    {token: identifier}.

    The planner reads requests with word regexes: `rename column "from" to "to" on
    "user"` would otherwise read as keywords, and `"x; drop table users; --"` as a
    column `x`. A token is one plain lower-case word no keyword or table matches,
    which the resolver maps back to the literal name (case kept, `""` unescaped).
    Raises UnderstandingError for an unbalanced quote or a name migagent will not
    create (see `_QUOTED_OK`).
    """
    from migagent.agent.errors import UnderstandingError

    tokens: dict[str, str] = {}
    by_name: dict[str, str] = {}

    def swap(m: re.Match[str]) -> str:
        name = m.group(1).replace('""', '"')
        problem = quoted_identifier_problem(name)
        if problem:
            raise UnderstandingError(
                f'the quoted identifier "{m.group(1)}" {problem}',
                fix="quote only table and column names made of letters, digits, _, $, "
                "spaces or hyphens; write values in single quotes ('like this')",
            )
        if name not in by_name:
            by_name[name] = _token(len(by_name))
            tokens[by_name[name]] = name
        # a space only against a word character: "sales"."orders" stays one dotted word
        before = " " if m.start() > 0 and _WORDISH.match(text[m.start() - 1]) else ""
        after = " " if m.end() < len(text) and _WORDISH.match(text[m.end()]) else ""
        return f"{before}{by_name[name]}{after}"

    out = _QUOTED.sub(swap, text)
    if '"' in out:
        raise UnderstandingError(
            "the request has an unbalanced double quote",
            fix='close the quoted identifier ("like this"), or drop the quote',
        )
    return out, tokens


def quoted_identifier_problem(name: str) -> str | None:
    """Why `name` cannot be a quoted identifier migagent creates, or None."""
    if not name.strip():
        return "is empty"
    if len(name.encode()) > MAX_IDENTIFIER:
        return f"is longer than PostgreSQL's {MAX_IDENTIFIER} bytes"
    if not _QUOTED_OK.fullmatch(name):
        bad = sorted({c for c in name if not _QUOTED_OK.fullmatch(c)})
        return "contains " + " ".join(repr(c) for c in bad)
    if name != name.strip():
        return "starts or ends with a space"
    return None


def restore_quoted(value: str, tokens: dict[str, str]) -> str:
    """`value` with every token put back as its literal identifier."""
    if not tokens or "qq" not in value:
        return value
    return re.sub(r"qq[a-z]+qq", lambda m: tokens.get(m.group(0), m.group(0)), value)


# ---------------------------------------------------------------- verb forms

# Commit messages and third-person descriptions ("Adds region column to warehouses",
# "Removed legacy flag", "adding an index") name the same changes as imperatives.
# One table of inflections, read once: every intent then sees the base verb.
# (base, inflections anywhere, inflections only where a clause starts)
_VERB_INFLECTIONS: list[tuple[str, str, str]] = [
    ("add", "adds|adding", "added"),
    ("create", "creates|creating", "created"),
    ("allow", "allows|allowing", "allowed"),
    ("fix", "fixes", "fixed"),
    ("remove", "removes|removing", "removed"),
    ("drop", "drops|dropping", "dropped"),
    ("delete", "deletes", "deleting"),  # "deleted" is the soft-delete adjective
    ("rename", "renames|renaming", "renamed"),
    ("make", "makes|making", "made"),
    ("change", "", "changes|changed"),
    ("convert", "converts", "converted"),
    ("switch", "", "switches|switched"),
    ("introduce", "introduces|introducing", "introduced"),
    ("enable", "enables", "enabled"),
    ("index", "", "indexes|indexed"),
    ("ensure", "ensures", "ensured"),
    ("enforce", "enforces", "enforced"),
    ("prevent", "prevents", "prevented"),
    ("require", "", "requires"),
    ("store", "", "stores|stored"),
    ("track", "", "tracks|tracked"),
    ("widen", "widens", "widened"),
    ("extend", "", "extends|extended"),
    ("increase", "", "increases|increased"),
    ("bump", "bumps", "bumped"),
    ("split", "", "splits"),
    ("merge", "", "merges|merged"),
    ("combine", "", "combines|combined"),
    ("move", "", "moves|moved"),
    ("speed", "", "speeds|sped"),
    ("support", "", "supports|supported"),
]
_CLAUSE_START = (
    r"(?:^|[.;:!?]\s+|,\s*(?:and\s+|then\s+)?|\s+and\s+(?:then\s+|also\s+)?|\s+then\s+|\s+also\s+)"
)
_NOT_WORD = r"(?![\w$.'(])"
_VERB_ANYWHERE = [
    (re.compile(rf"(?<![\w$.'])(?:{anywhere}){_NOT_WORD}", re.I), base)
    for base, anywhere, _ in _VERB_INFLECTIONS
    if anywhere
]
_VERB_AT_START = [
    (re.compile(rf"({_CLAUSE_START})(?:{start}){_NOT_WORD}", re.I), base)
    for base, _, start in _VERB_INFLECTIONS
    if start
]
# "feat(db): ", "[migrations] ", "chore!: " before, "(#123)" / "#123" after
_COMMIT_PREFIX = re.compile(
    r"^\s*(?:\[[\w /.-]{1,30}\]\s*)?(?:(?:feat|feature|fix|chore|refactor|perf|build|db|database|"
    r"migration|migrations|schema|model|models)(?:\([\w /.-]{0,30}\))?!?:\s+)?",
    re.I,
)
_COMMIT_SUFFIX = re.compile(r"\s*\((?:#|gh-|pr\s*)\d+\)\s*$|\s+#\d+\s*$", re.I)


def strip_commit_noise(text: str) -> str:
    """`text` without a commit-message type prefix or a trailing PR reference."""
    out = _COMMIT_PREFIX.sub("", text, count=1)
    out = _COMMIT_SUFFIX.sub("", out)
    return out.strip() or text.strip()


def _outside_quotes(text: str, fn) -> str:
    """Apply `fn` to the parts of `text` outside single-quoted strings and backticks."""
    parts = re.split(r"('(?:[^']|'')*'|`[^`]*`)", text)
    return "".join(p if i % 2 else fn(p) for i, p in enumerate(parts))


def base_verbs(text: str) -> str:
    """`text` with verb inflections ("Adds", "renamed", "dropping") in their base form;
    a form that is also an adjective or noun ("indexed", "changes") only where a clause
    starts. Quoted values and identifiers (`adds_count`, `t.drops`) are left alone."""

    def fix(part: str) -> str:
        for pattern, base in _VERB_AT_START:
            part = pattern.sub(lambda m, b=base: m.group(1) + b, part)
        for pattern, base in _VERB_ANYWHERE:
            part = pattern.sub(base, part)
        return part

    return _outside_quotes(text, fix)


def base_verb(word: str) -> str:
    """The base form of one verb word ("adds" -> "add"), or the word itself."""
    w = word.lower()
    for base, anywhere, start in _VERB_INFLECTIONS:
        forms = "|".join(f for f in (anywhere, start) if f)
        if w == base or (forms and re.fullmatch(f"(?:{forms})", w)):
            return base
    return w
