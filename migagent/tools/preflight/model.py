"""What the target preflight plans, runs and reports.

A `PreflightCheck` is one question about the target's rows that one upgrade
statement depends on (planned offline, from the revision and the snapshot); a
`PreflightResult` is the target's answer; a `PreflightReport` is all of them,
with the verdict the proof stage acts on and the `DataFacts` the sample-row
generator must respect.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from migagent.tools.datafacts import DataFact, DataFacts

CheckKind = Literal[
    "not_null",  # SET NOT NULL, new PRIMARY KEY columns, CHECK (col IS NOT NULL)
    "unique",  # UNIQUE / PRIMARY KEY constraints, unique indexes
    "foreign_key",  # FOREIGN KEY (at ADD, or at VALIDATE when added NOT VALID)
    "check",  # CHECK (at ADD, or at VALIDATE when added NOT VALID)
    "cast",  # ALTER COLUMN TYPE [USING]
    "add_column_not_null",  # ADD COLUMN ... NOT NULL without a default, on a table with rows
    "drop_column",  # information: values lost
    "drop_table",  # information: rows lost
]
Status = Literal["ok", "violations", "unknown", "info"]
#: how a cast check decides: PG 16+'s pg_input_is_valid, a pattern/range predicate,
#: the enum's labels, the length limit, or evaluating the conversion itself (trial)
CastMethod = Literal["pg_input_is_valid", "pattern", "range", "enum_labels", "length", "trial"]

#: kinds whose findings are information for the spec, never a failure
INFO_KINDS: frozenset[str] = frozenset({"drop_column", "drop_table"})


class PreflightCheck(BaseModel):
    """One data-dependent question of one upgrade statement, planned without a database."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: CheckKind
    statement_index: int  # position in the revision's captured upgrade statements
    statement_line: int = 0  # line of the op.* call in the revision file
    sql: str
    table: str  # qualified, as the target names it (before any rename in the revision)
    columns: tuple[str, ...] = ()  # the columns involved, as the target names them
    #: unique: key expressions in order, when any key is an expression ("lower(email)")
    expressions: tuple[str, ...] = ()
    predicate: str | None = None  # unique: partial index predicate
    nulls_not_distinct: bool = False
    ref_table: str | None = None  # foreign_key: parent table (qualified)
    ref_columns: tuple[str, ...] = ()
    ref_created: bool = False  # the parent is created by the revision: it has no rows yet
    match_full: bool = False
    expression: str | None = None  # check: the CHECK expression
    type_name: str | None = None  # cast: the new type, as SQL
    source_type: str | None = None  # cast: the column's type on the target
    using: str | None = None  # cast: the USING expression, when it is not a plain cast
    method: CastMethod | None = None
    labels: tuple[str, ...] = ()  # cast to an enum: its labels
    max_length: int | None = None  # cast to varchar(n)/char(n): n
    truncates: bool = False  # an explicit cast to varchar(n) truncates instead of failing
    row_estimate: int = 0  # catalog estimate of the table's rows (decides sampling)
    #: why nothing is queried (the table is new, the index already enforces it, ...)
    skip: str | None = None
    skip_status: Status = "info"
    #: the revision changes the table's rows before this statement (counts are of today's rows)
    written_by: str | None = None
    exactness: str = ""  # what the query decides exactly and what only approximately
    fix: str = ""  # one line: what to do before the migration can run

    @property
    def failing(self) -> bool:
        """Whether a violation of this check makes the migration fail on the target."""
        return self.kind not in INFO_KINDS and not self.truncates

    def key(self) -> tuple:
        """Identity of the question, so a revision asking it twice queries once."""
        return (
            self.kind,
            self.table,
            self.columns,
            self.expressions,
            self.predicate,
            self.nulls_not_distinct,
            self.ref_table,
            self.ref_columns,
            self.expression,
            self.type_name,
            self.using,
        )


class PreflightResult(BaseModel):
    """The target's answer to one check."""

    model_config = ConfigDict(extra="forbid")

    kind: CheckKind
    statement_index: int
    sql: str
    table: str
    columns: tuple[str, ...] = ()
    query: str | None = None  # the SQL that ran on the target (evidence for the spec)
    status: Status
    #: rows that break the statement (None: not counted, e.g. a trial cast stopped at the first error)
    violating_rows: int | None = None
    groups: int | None = None  # unique: duplicate groups
    example: str | None = None  # a violating value, for the message
    sampled: bool = False
    sample_rows: int | None = None  # rows the sample held
    estimated_violations: int | None = None  # extrapolated to the whole table when sampled
    message: str
    fix: str = ""
    exactness: str = ""
    duration_ms: float = 0.0
    fact: DataFact | None = None  # what an "ok" establishes about the target's rows
    check: PreflightCheck

    @property
    def failed(self) -> bool:
        return self.status == "violations" and self.check.failing


class PreflightReport(BaseModel):
    """Every check's result, in statement order."""

    model_config = ConfigDict(extra="forbid")

    results: list[PreflightResult] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)  # e.g. statements not captured offline
    server_version: int = 0

    @property
    def failed(self) -> bool:
        """Whether any statement would fail on the target's rows."""
        return any(r.failed for r in self.results)

    def failures(self) -> list[PreflightResult]:
        return [r for r in self.results if r.failed]

    def unknown(self) -> list[PreflightResult]:
        return [r for r in self.results if r.status == "unknown"]

    def facts(self) -> DataFacts:
        """Facts of every passing check: what the generated rows must also satisfy."""
        return DataFacts.of(r.fact for r in self.results if r.fact is not None)

    def summary(self) -> str:
        """One line per result, failures first; a single line when nothing was checked."""
        if not self.results:
            return "target preflight: no upgrade statement depends on the target's rows"
        counts: dict[str, int] = {}
        for r in self.results:
            counts[r.status] = counts.get(r.status, 0) + 1
        head = "target preflight: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        order = {"violations": 0, "unknown": 1, "info": 2, "ok": 3}
        rows = sorted(self.results, key=lambda r: (not r.failed, order[r.status]))
        lines = [head] + [f"- [{r.status}] {r.message}" for r in rows] + self.notes
        return "\n".join(lines)
