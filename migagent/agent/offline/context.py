"""The context of one intent attempt: the shared reading plus that attempt's own notes.

Every attempt gets a fresh `Ctx`, so assumptions, warnings and categories an
intent records before giving up never reach the plan another intent returns.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from migagent.agent import plan as P
from migagent.agent.errors import AmbiguousRequest, UnderstandingError
from migagent.agent.offline.lexicon import snake
from migagent.agent.offline.reading import Reading
from migagent.agent.offline.resolve import Resolver
from migagent.tools.introspect.model import Column, SchemaSnapshot, Table


def column_of(t: Table, name: str) -> Column:
    """`t`'s column `name` (read from `t` by the caller), or a refusal listing its columns."""
    c = t.column(name)
    if c is None:
        raise UnderstandingError(
            f"{t.name} has no column {name!r}",
            [f"columns of {t.name}: {', '.join(x.name for x in t.columns)}"],
        )
    return c


@dataclass
class Ctx:
    reading: Reading
    assumptions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # kinds of change the plan makes (data_intents reads "backfill" / "data_statement")
    categories: list[str] = field(default_factory=list)
    # a new column's name read from plain words ending in a type word (naming.noun_phrase_name)
    phrase_name: str | None = None

    def subject(self) -> Table:
        """The table the request is about (the resolver refuses when it cannot tell)."""
        t = self.reading.r.subject_table()
        if t is None:  # subject_table(required=True) raises first; this keeps the type exact
            raise UnderstandingError("could not tell which table the request is about")
        return t

    @property
    def request(self) -> str:
        return self.reading.request

    @property
    def facts(self) -> P.Facts:
        return self.reading.facts

    @property
    def snap(self) -> SchemaSnapshot:
        return self.reading.facts.snapshot

    @property
    def quoted(self) -> dict[str, str]:
        return self.reading.quoted

    @property
    def r(self) -> Resolver:
        return self.reading.r

    @property
    def text(self) -> str:
        return self.reading.text

    @property
    def low(self) -> str:
        return self.reading.low

    def has(self, pattern: str) -> bool:
        return re.search(pattern, self.low) is not None

    def search(self, pattern: str) -> re.Match | None:
        return re.search(pattern, self.low)

    def explicit_name(self) -> str | None:
        m = re.search(r"\b(?:named|called)\s+[`'\"]?([a-z_][\w$]*)", self.text, re.I)
        return m.group(1) if m else None

    def new_name(self, name: str, end: int) -> str:
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
            if m.column is not None and m.column not in out:
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
            cols = [c for c in cols if (col := t.column(c)) is not None and prefer(col)] or cols
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
