"""Shared vocabulary of the offline intents: constants and pure helpers on words and names."""

from __future__ import annotations

import re

from migagent.agent.offline.lexicon import snake
from migagent.tools.introspect.model import Table

TEXT_SEARCH_CONFIGS = (
    "simple", "arabic", "danish", "dutch", "english", "finnish", "french", "german", "greek",
    "hungarian", "indonesian", "irish", "italian", "lithuanian", "nepali", "norwegian",
    "portuguese", "romanian", "russian", "serbian", "spanish", "swedish", "tamil", "turkish",
)  # fmt: skip


def idx_name(table: str, parts: list[str], suffix: str) -> str:
    base = "_".join([table, *[snake(p) or "expr" for p in parts]])
    return f"{base[: 63 - len(suffix) - 1]}_{suffix}"


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


def qtable(t: Table) -> str:
    from migagent.agent.lower import qt

    return qt(t.qualified_name)


def read_labels(text: str) -> list[str]:
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


def split_sentence(text: str) -> tuple[str, str]:
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


def split_top(text: str) -> list[str]:
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


def convention_type(name: str, snap) -> str | None:
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


def infer_type(name: str, snap) -> str | None:
    n = name.lower()
    if not n.endswith("_id"):
        convention = convention_type(n, snap)
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
