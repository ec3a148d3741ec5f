"""The result of `verify`: a pydantic `VerificationReport`.

Everything in it was measured on a scratch copy of the schema: statements as
Alembic executed them (SQL, duration, the locks PostgreSQL granted, table
rewrites), the schema changes, the round trip, data loss and the results of
verification queries. The CLI prints it, `--json` dumps it, the spec renderer
and the planners read it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from migagent.tools.introspect.diff import Change
from migagent.tools.introspect.model import SchemaSnapshot
from migagent.tools.lint.locks import LOCK_MODES, PG_LOCKS_MODE

#: Lock modes (weakest first) and their `pg_locks.mode` spellings are the linter's
#: table, so predicted and measured locks always use the same names.
_PG_SPELLING = {spelled: mode for mode, spelled in PG_LOCKS_MODE.items()}

#: Modes that block writers (INSERT/UPDATE/DELETE take ROW EXCLUSIVE).
BLOCKS_WRITES = frozenset(LOCK_MODES[4:])
#: Modes that block readers (SELECT takes ACCESS SHARE).
BLOCKS_READS = frozenset({"ACCESS EXCLUSIVE"})

StepName = Literal["load", "data", "snapshot", "upgrade", "checks", "downgrade", "reupgrade"]
StepStatus = Literal["passed", "warning", "failed", "skipped"]
Risk = Literal["None", "Low", "Medium", "High"]
RISKS: tuple[Risk, ...] = ("None", "Low", "Medium", "High")


def normalize_mode(mode: str) -> str:
    """`AccessExclusiveLock` or `access exclusive` -> `ACCESS EXCLUSIVE`."""
    if mode in _PG_SPELLING:
        return _PG_SPELLING[mode]
    upper = " ".join(mode.upper().replace("_", " ").split())
    if upper.endswith(" LOCK"):
        upper = upper[: -len(" LOCK")]
    if upper not in LOCK_MODES:
        raise ValueError(f"not a table lock mode: {mode!r}")
    return upper


def lock_strength(mode: str) -> int:
    return LOCK_MODES.index(normalize_mode(mode))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LockRecord(_Model):
    """A lock one statement acquired on one relation."""

    relation: str  # schema.name of the locked relation
    relkind: Literal["table", "index", "sequence", "view", "materialized view", "other"] = "table"
    table: str | None = None  # the table a locked index belongs to (or the table itself)
    mode: str  # "ACCESS EXCLUSIVE", ... (strongest mode newly granted to this statement)
    observed: bool = True  # False: not seen in pg_locks, stated from PostgreSQL's docs
    new_relation: bool = False  # created by the migration itself: the lock blocks nobody


class StatementRecord(_Model):
    """One statement as Alembic sent it to PostgreSQL."""

    index: int  # 1-based within its phase
    phase: Literal["upgrade", "downgrade", "reupgrade", "history"] = "upgrade"
    sql: str
    parameters: str | None = None  # repr of bound parameters (op.bulk_insert, get_bind)
    duration_ms: float = 0.0
    locks_held_ms: float | None = None  # from the statement's start until its locks were released
    transactional: bool = True  # False inside autocommit_block() (e.g. CONCURRENTLY)
    internal: bool = False  # a catalog lookup SQLAlchemy made for itself (checkfirst, ...)
    rowcount: int | None = None
    locks: list[LockRecord] = Field(default_factory=list)
    rewrites: list[str] = Field(default_factory=list)  # tables whose relfilenode changed
    rebuilt_indexes: list[str] = Field(default_factory=list)
    error: str | None = None

    def lock_on(self, table: str) -> str | None:
        """Strongest mode this statement took on `table` (schema.name or bare name)."""
        modes = [
            lk.mode
            for lk in self.locks
            if lk.relkind != "index" and _same_relation(lk.relation, table)
        ]
        return max(modes, key=lock_strength) if modes else None

    @property
    def table_locks(self) -> dict[str, str]:
        """{table: strongest mode} over tables (not indexes), for lint cross-checks."""
        out: dict[str, str] = {}
        for lk in self.locks:
            if lk.relkind not in ("table", "materialized view"):
                continue
            if lk.relation not in out or lock_strength(lk.mode) > lock_strength(out[lk.relation]):
                out[lk.relation] = lk.mode
        return out


def _same_relation(a: str, b: str) -> bool:
    if a == b:
        return True
    return a.split(".", 1)[-1] == b if "." not in b else False


class BlockingLock(_Model):
    """A pre-existing table held in a mode that blocks its readers or writers."""

    table: str
    mode: str
    blocks: Literal["reads and writes", "writes"]
    statement: int  # index of the upgrade statement that took it
    held_ms: float  # from that statement's start until the lock was released (commit)
    rows: int | None = None  # the table's rows in the scratch database
    rewrite: bool = False  # the table was rewritten while locked


class DataLossFinding(_Model):
    table: str
    column: str | None = None  # None: whole rows
    kind: Literal["rows lost", "values lost", "values changed", "table lost", "rows added"]
    amount: int  # rows or values (for "values changed": rows that may differ)
    baseline: int  # rows (or non-null values) before the upgrade
    detail: str = ""

    @property
    def fraction(self) -> float:
        return self.amount / self.baseline if self.baseline else 1.0


class DataLoss(_Model):
    """What the downgrade could not bring back.

    Risk, from the largest fraction of any finding (amount / baseline):
    None = nothing lost or changed; Low = at most 1%; Medium = at most 25%;
    High = more than 25%, or a whole table gone. Rows the downgrade left
    behind ("rows added") count as Low: debris, not loss. "values changed"
    counts every non-null value of the column (a checksum cannot say how many
    differ), so it is an upper bound.
    """

    risk: Risk = "None"
    findings: list[DataLossFinding] = Field(default_factory=list)
    untouched_changed: list[str] = Field(default_factory=list)  # data changed where it must not


class TableData(_Model):
    rows: int
    generated: bool = False  # rows made up by datagen (vs. rows the starting point had)


class DataSummary(_Model):
    real_rows: bool = False  # the starting point had rows of its own
    rows_requested: int = 0
    tables: dict[str, TableData] = Field(default_factory=dict)
    skipped: dict[str, str] = Field(default_factory=dict)  # table -> why no rows were generated
    upgrade_row_changes: dict[str, tuple[int, int]] = Field(default_factory=dict)  # before, after
    #: what the generated rows keep true of the target's (DataFact.describe() of each applied)
    facts: list[str] = Field(default_factory=list)


class CheckResult(_Model):
    sql: str
    ok: bool
    columns: list[str] = Field(default_factory=list)
    rows: list[list[str | None]] = Field(default_factory=list)  # text form, capped
    row_count: int = 0
    truncated: bool = False
    error: str | None = None
    duration_ms: float = 0.0


class StepResult(_Model):
    name: StepName
    status: StepStatus
    reasons: list[str] = Field(default_factory=list)
    duration_ms: float = 0.0


class Failure(_Model):
    """Where and why the run stopped early."""

    step: StepName
    message: str
    statement: int | None = None  # index of the failing statement in its phase
    sql: str | None = None
    location: str | None = None  # "file.py:12 in upgrade()" for Python errors


class VerificationReport(_Model):
    revision: str | None = None
    down_revision: str | list[str] | None = None
    source: str  # revision file path or name
    starting_point: str
    server_version: int = 0
    passed: bool = False
    steps: list[StepResult] = Field(default_factory=list)
    failure: Failure | None = None
    upgrade: list[StatementRecord] = Field(default_factory=list)
    downgrade: list[StatementRecord] = Field(default_factory=list)
    reupgrade: list[StatementRecord] = Field(default_factory=list)
    blocking_locks: list[BlockingLock] = Field(default_factory=list)
    schema_changes: list[Change] = Field(default_factory=list)
    # the starting schema, as the scratch copy had it (not in --json)
    before: SchemaSnapshot | None = Field(default=None, exclude=True, repr=False)
    # the schema right after upgrade(), for callers that document it (not in --json)
    after: SchemaSnapshot | None = Field(default=None, exclude=True, repr=False)
    downgrade_residue: list[Change] = Field(default_factory=list)  # start vs. after downgrade
    reupgrade_mismatch: list[Change] = Field(default_factory=list)  # upgrade vs. re-upgrade
    data: DataSummary = Field(default_factory=DataSummary)
    data_loss: DataLoss = Field(default_factory=DataLoss)
    #: what the upgrade did to the rows (a data migration changes these and no schema)
    data_changes: list[str] = Field(default_factory=list)
    #: whether the downgrade brought the changed rows back (None: no data changed / not run)
    data_restored: bool | None = None
    checks: list[CheckResult] = Field(default_factory=list)
    lock_timeout_ms: int = 0
    statement_timeout_ms: int = 0
    duration_ms: float = 0.0

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def step(self, name: StepName) -> StepResult | None:
        return next((s for s in self.steps if s.name == name), None)

    @property
    def reasons(self) -> list[str]:
        """Every failure reason, step by step."""
        return [f"{s.name}: {r}" for s in self.steps if s.status == "failed" for r in s.reasons]
