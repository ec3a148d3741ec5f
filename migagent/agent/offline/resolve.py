"""Resolve the words of a request to tables and columns of the live schema.

Loose on purpose, but never silently: `orders.customer_id`, "the sections
table", "order items" -> order_items, "file size" -> file_size, plural or
singular ("ticket subjects" -> tickets.subject), small typos (difflib, high
cutoff). Where a word fits several objects equally, `AmbiguousRequest` names
them.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from migagent.agent.errors import AmbiguousRequest, UnderstandingError
from migagent.agent.offline.lexicon import singular, variants
from migagent.tools.introspect.model import SchemaSnapshot, Table

FUZZY_CUTOFF = 0.84
_IDENT = r"[A-Za-z_][\w$]*"
_WORD = re.compile(rf"{_IDENT}(?:\.{_IDENT})?")

# words that never name a table or column on their own
STOP = {
    "a", "an", "the", "to", "of", "on", "in", "for", "and", "or", "with", "by", "as", "at",
    "is", "be", "it", "its", "we", "our", "us", "i", "me", "my", "add", "drop", "remove",
    "create", "make", "change", "set", "new", "table", "tables", "column", "columns",
    "index", "please", "pls", "can", "you", "that", "this", "so", "from", "into", "not",
    "null", "default", "type", "all", "any", "need", "needs", "should", "would", "want",
    "them", "they", "there", "when", "where", "which", "each", "every", "also",
    "only", "just", "some", "one", "two", "no", "yes", "do", "does", "don", "t", "s",
    "key", "unique", "instead", "order", "use", "using", "value", "values", "data",
    "field", "fields", "up", "if", "than", "then", "but", "are", "was", "were", "has",
    "have", "had", "will", "migration", "schema", "database", "db", "rows", "row", "like",
}  # fmt: skip


# units a column name ends with that a request leaves out ("the deposit" -> deposit_cents)
UNIT_SUFFIXES = (
    "cents|amount|value|ms|millis|seconds|secs|minutes|mins|hours|days|grams|kg|km|meters|m|"
    "bytes|kb|mb|pct|percent|count|num|number"
)


@dataclass
class Mention:
    start: int
    end: int
    text: str
    table: Table
    column: str | None = None
    strength: int = 1  # 3 dotted/exact identifier, 2 exact word, 1 inflected/fuzzy


def words(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(text)]


_TOKEN = re.compile(r"qq[a-z]+qq")


class Resolver:
    def __init__(self, snap: SchemaSnapshot, text: str, quoted: dict[str, str] | None = None):
        self.snap = snap
        # `quoted`: tokens standing for double-quoted identifiers (lexicon.protect_quoted),
        # which name exactly one object, case and all, or none
        self.quoted = dict(quoted or {})
        self.text = text.replace("`", " ").replace('"', " ")
        self.low = self.text.lower()
        # Alembic's own bookkeeping table is never what a request means
        self.tables = [
            t for t in snap.tables.values() if not t.partition_of and t.name != "alembic_version"
        ]
        self.by_name: dict[str, list[Table]] = {}
        for t in self.tables:
            self.by_name.setdefault(t.name.lower(), []).append(t)
            self.by_name.setdefault(t.qualified_name.lower(), []).append(t)

    # ------------------------------------------------------------ tables
    def literal(self, word: str) -> str | None:
        """The identifier a quoted token (or `schema.token`) stands for, else None."""
        w = word.lower().strip()
        if not self.quoted or not _TOKEN.search(w):
            return None
        return ".".join(self.quoted.get(part, part) for part in w.split("."))

    def table_named(self, word: str, *, fuzzy: bool = True) -> list[Table]:
        w = word.lower().strip()
        literal = self.literal(w)
        if literal is not None:  # quoted: exactly this name, no inflection or typos
            return [t for t in self.tables if literal in (t.name, t.qualified_name)]
        if w in self.by_name:
            return self.by_name[w]
        for v in variants(w):
            if v in self.by_name:
                return self.by_name[v]
        if "." in w:
            return []
        if fuzzy and len(w) >= 5 and w not in STOP:
            names = [t.name.lower() for t in self.tables]
            close = difflib.get_close_matches(w, names, n=3, cutoff=FUZZY_CUTOFF)
            if close:
                return self.by_name[close[0]]
        return []

    def table_mentions(self) -> list[Mention]:
        """Every place a table is named, longest phrase first, in text order."""
        ws = words(self.low)
        out: list[Mention] = []
        used: set[int] = set()
        for n in (4, 3, 2, 1):
            for i in range(len(ws) - n + 1):
                if any(j in used for j in range(i, i + n)):
                    continue
                chunk = ws[i : i + n]
                if n > 1 and any("." in w for _, _, w in chunk):
                    continue
                phrase = "_".join(w for _, _, w in chunk)
                first = chunk[0][2]
                if n == 1 and "." in first:
                    tname = first.split(".")[0]
                    if self._is_schema(tname):
                        found = self.table_named(first, fuzzy=False)
                    else:
                        found = self.table_named(tname)
                    if found:
                        out.append(Mention(chunk[0][0], chunk[0][1], first, found[0], None, 3))
                        used.add(i)
                    continue
                if n == 1 and phrase in STOP:
                    continue
                found = self.table_named(phrase, fuzzy=(n == 1))
                if found:
                    exact = phrase in self.by_name
                    strength = 3 if exact and "_" in phrase else 2 if exact else 1
                    if n > 1:
                        strength = 2
                    # "in that order", "order by": a common word is weak evidence
                    out.append(Mention(chunk[0][0], chunk[-1][1], phrase, found[0], None, strength))
                    used.update(range(i, i + n))
        return sorted(out, key=lambda m: m.start)

    def _is_schema(self, name: str) -> bool:
        return name.lower() in {s.lower() for s in self.snap.schemas} or name.lower() == "public"

    def dotted(self) -> list[tuple[Mention, str]]:
        """`table.column` references: (mention, column word)."""
        out = []
        for s, e, w in words(self.text):
            if "." not in w:
                continue
            head, col = w.split(".", 1)
            if self._is_schema(head):
                continue
            found = self.table_named(head)
            if found:
                out.append((Mention(s, e, w, found[0], None, 3), col))
        return out

    # ------------------------------------------------------------ columns
    def column_named(self, table: Table, phrase: str, *, fuzzy: bool = True) -> str | None:
        literal = self.literal(phrase)
        if literal is not None:
            return literal if table.column(literal) is not None else None
        p = phrase.lower().strip().replace(" ", "_")
        names = {c.name.lower(): c.name for c in table.columns}
        if p in names:
            return names[p]
        for v in variants(p):
            if v in names:
                return names[v]
        # "deposit" -> deposit_cents, "weight" -> weight_grams: the name without its unit,
        # when exactly one column carries it
        if fuzzy and len(p) >= 4 and p not in STOP:
            unit = [n for n in names if re.fullmatch(rf"{re.escape(p)}_(?:{UNIT_SUFFIXES})", n)]
            if len(unit) == 1:
                return names[unit[0]]
        # "customer id" -> customer_id handled by the caller's n-grams; "fax" -> fax_number? no
        if fuzzy and len(p) >= 5 and p not in STOP:
            close = difflib.get_close_matches(p, list(names), n=2, cutoff=FUZZY_CUTOFF)
            if len(close) == 1 or (
                close and difflib.SequenceMatcher(None, p, close[0]).ratio() > 0.92
            ):
                return names[close[0]]
        return None

    def column_mentions(
        self, table: Table, *, start: int = 0, end: int | None = None
    ) -> list[Mention]:
        """Columns of `table` named in text[start:end], in order (n-grams, inflection)."""
        seg = self.low[start:end]
        ws = words(seg)
        out: list[Mention] = []
        used: set[int] = set()
        tnames = variants(table.name)
        for n in (4, 3, 2, 1):
            for i in range(len(ws) - n + 1):
                if any(j in used for j in range(i, i + n)):
                    continue
                chunk = ws[i : i + n]
                if n == 1 and "." in chunk[0][2]:
                    head, col = chunk[0][2].split(".", 1)
                    if self.table_named(head) and self.table_named(head)[0] is table:
                        c = self.column_named(table, col)
                        if c:
                            out.append(
                                Mention(
                                    start + chunk[0][0],
                                    start + chunk[0][1],
                                    chunk[0][2],
                                    table,
                                    c,
                                    3,
                                )
                            )
                            used.add(i)
                    continue
                if any("." in w for _, _, w in chunk):
                    continue
                phrase = "_".join(w for _, _, w in chunk)
                if n == 1 and (phrase in STOP or phrase in tnames):
                    continue
                c = self.column_named(table, phrase, fuzzy=(n == 1))
                if c is None and n >= 2 and chunk[0][2] in tnames:
                    # "ticket subjects" -> subject of tickets
                    c = self.column_named(table, "_".join(w for _, _, w in chunk[1:]), fuzzy=False)
                if c:
                    strength = (
                        3 if phrase == c.lower() and "_" in c else 2 if phrase == c.lower() else 1
                    )
                    out.append(
                        Mention(
                            start + chunk[0][0], start + chunk[-1][1], phrase, table, c, strength
                        )
                    )
                    used.update(range(i, i + n))
        return sorted(out, key=lambda m: m.start)

    # ------------------------------------------------------------ the subject
    def subject_table(
        self, *, required: bool = True, prefer_columns: list[str] | None = None
    ) -> Table | None:
        """The table the request is about."""
        dotted = self.dotted()
        if dotted:
            tables = []
            for m, _ in dotted:
                if m.table not in tables:
                    tables.append(m.table)
            return tables[0]
        mentions = self.table_mentions()
        if mentions:
            scored: dict[str, tuple[int, int, Table]] = {}
            for m in mentions:
                score = m.strength * 10
                before = self.low[max(0, m.start - 12) : m.start]
                after = self.low[m.end : m.end + 8]
                if re.search(r"\b(on|to|from|in|into|of)\s+(the\s+)?$", before):
                    score += 5
                if re.match(r"\s+table\b", after) or re.match(r"\s*\(", after):
                    score += 8
                if m.text == "order" and (
                    re.search(r"\bin\s+that\s+$", before) or re.match(r"\s+by\b", after)
                ):
                    score -= 15  # "in that order", "order by"
                score += 2 * len(self.column_mentions(m.table))
                if prefer_columns:
                    score += 6 * sum(1 for c in prefer_columns if m.table.column(c))
                key = m.table.qualified_name
                if key not in scored or scored[key][0] < score:
                    scored[key] = (score, -m.start, m.table)
            ranked = sorted(scored.values(), key=lambda x: (x[0], x[1]), reverse=True)
            if len(ranked) > 1 and ranked[0][0] == ranked[1][0] and ranked[0][0] < 20:
                raise AmbiguousRequest(
                    "the request names more than one table",
                    [r[2].name for r in ranked[:4]],
                )
            if ranked[0][0] > 0:
                return ranked[0][2]
        # no table named: a column name unique to one table
        owners = self.column_owners()
        if len(owners) == 1:
            return owners[0]
        if len(owners) > 1:
            raise AmbiguousRequest(
                "the request names a column that exists in several tables",
                [t.name for t in owners],
            )
        if required:
            raise UnderstandingError(
                "could not tell which table the request is about",
                [f"tables in the schema: {', '.join(t.name for t in self.tables[:12]) or 'none'}"],
            )
        return None

    def column_owners(self) -> list[Table]:
        owners = []
        for t in self.tables:
            ms = [
                m
                for m in self.column_mentions(t)
                if m.strength >= 2 and m.column and len(m.column) > 2
            ]
            ms = [
                m
                for m in ms
                if m.column and m.column.lower() not in {"id", "name", "created_at", "updated_at"}
            ]
            if ms:
                owners.append((max(m.strength for m in ms), t))
        if not owners:
            return []
        best = max(s for s, _ in owners)
        return [t for s, t in owners if s == best]

    def new_name_ok(self, name: str) -> bool:
        return bool(re.fullmatch(r"[a-z_][a-z0-9_]*", name)) and len(name) <= 63


def singular_of(table: Table) -> str:
    return singular(table.name)
