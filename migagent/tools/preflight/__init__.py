"""Target preflight: will the target's rows let each upgrade statement run?

`plan_checks(source, snapshot)` reads a revision's upgrade offline (the
linter's capture) and, for every statement whose success depends on the data,
plans one question; `run_preflight(...)` asks the target, read-only and
time-limited, sampling large tables, and returns a `PreflightReport`:
`failed`, `failures()`, `summary()` and `facts()` (what the generated sample
rows must also satisfy for the proof to meet what the target would).

What each kind decides, exactly or approximately:

- NOT NULL (SET NOT NULL, new PRIMARY KEY columns, CHECK (col IS NOT NULL),
  ADD COLUMN NOT NULL without default): exact count.
- UNIQUE / PRIMARY KEY / CREATE UNIQUE INDEX: exact groups and rows, with the
  partial predicate, expressions and NULLS NOT DISTINCT as written; operator
  classes and non-default collations are not modelled. USING INDEX needs no
  question (the index enforces it already; a PRIMARY KEY still asks for NULLs).
- FOREIGN KEY and CHECK: exact counts, at ADD, or at VALIDATE when added NOT VALID.
- ALTER COLUMN TYPE: see `kinds.cast`; enum labels, length limits, PG 16+'s
  pg_input_is_valid and the PG 15 patterns for integer types, boolean and uuid
  are exact; the numeric pattern is approximate (flagged rows are re-cast to
  confirm); any other conversion or USING expression is evaluated on the rows
  (exact pass/fail, but only the first error is known, not the count).
- DROP COLUMN / DROP TABLE: exact counts, information only.
- Sampled (catalog estimate above `sample_above_rows`): violations found are
  real, counts are extrapolated, and a pass is not proven for the rest.
"""

from migagent.tools.preflight.model import (
    CheckKind,
    PreflightCheck,
    PreflightReport,
    PreflightResult,
    Status,
)
from migagent.tools.preflight.plan import plan, plan_checks
from migagent.tools.preflight.run import (
    DEFAULT_SAMPLE_ABOVE_ROWS,
    DEFAULT_SAMPLE_ROWS,
    DEFAULT_TIMEOUT_MS,
    run_check,
    run_preflight,
)

__all__ = [
    "DEFAULT_SAMPLE_ABOVE_ROWS",
    "DEFAULT_SAMPLE_ROWS",
    "DEFAULT_TIMEOUT_MS",
    "CheckKind",
    "PreflightCheck",
    "PreflightReport",
    "PreflightResult",
    "Status",
    "plan",
    "plan_checks",
    "run_check",
    "run_preflight",
]
