"""Facts about the target's rows that the scratch copy's sample rows must respect.

The proof runs a migration on generated rows. Where the target's real rows
allow a change (no NULL skus, no orphaned order_items, no duplicate emails,
every value castable to the new type), the generated rows must allow it too,
or the proof fails for a reason the real data contradicts. Where the target
does *not* allow it, the target preflight fails the proof with the real count
(`tools.preflight`), so generated rows never have to imitate a violation.

Producers: the target preflight (each data-dependent statement of a revision
that the target's rows satisfy) and the target profile (`pg_stats` and exact
counts on small tables). Consumer: `tools.datagen`, which treats each fact as
one more constraint of the schema while it generates rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FactKind = Literal["not_null", "unique", "references", "check", "castable", "max_length"]


class DataFact(BaseModel):
    """One property every row of `table` has on the target."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: FactKind
    table: str  # qualified: "public.products"
    #: not_null / castable / max_length: one column; unique / references: the key columns
    columns: tuple[str, ...] = ()
    #: unique over expressions (e.g. "lower(email)"), in key order; empty when `columns` says it
    expressions: tuple[str, ...] = ()
    #: unique: the partial index predicate, when the uniqueness holds only where it is true
    predicate: str | None = None
    nulls_not_distinct: bool = False
    #: references: the parent table (qualified) and its key columns
    ref_table: str | None = None
    ref_columns: tuple[str, ...] = ()
    #: check: the boolean expression every row satisfies
    expression: str | None = None
    #: castable: the type every non-null value converts to
    type_name: str | None = None
    #: max_length: the longest value, in characters
    max_length: int | None = None
    #: where the fact comes from, for the report: "preflight", "pg_stats", "exact count"
    source: str = "preflight"

    def describe(self) -> str:
        cols = ", ".join(self.columns or self.expressions)
        where = f" where {self.predicate}" if self.predicate else ""
        return {
            "not_null": f"{self.table}.{cols} has no NULLs",
            "unique": f"{self.table} ({cols}){where} has no duplicates",
            "references": f"{self.table} ({cols}) -> {self.ref_table} has no orphans",
            "check": f"{self.table} satisfies CHECK ({self.expression})",
            "castable": f"{self.table}.{cols} converts to {self.type_name}",
            "max_length": f"{self.table}.{cols} is at most {self.max_length} characters",
        }[self.kind]


class DataFacts(BaseModel):
    """A set of facts, in a stable order (so it can name a cached data template)."""

    model_config = ConfigDict(frozen=True)

    facts: tuple[DataFact, ...] = Field(default_factory=tuple)

    @classmethod
    def of(cls, facts: Iterable[DataFact]) -> DataFacts:
        unique = {f.model_dump_json(): f for f in facts}
        return cls(facts=tuple(unique[k] for k in sorted(unique)))

    def for_table(self, table: str) -> list[DataFact]:
        return [f for f in self.facts if f.table == table]

    def key(self) -> str:
        """A short digest for cache keys: the same facts give the same data template."""
        text = json.dumps([f.model_dump(mode="json") for f in self.facts], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def __bool__(self) -> bool:
        return bool(self.facts)
