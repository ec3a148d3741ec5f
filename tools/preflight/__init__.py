"""Target preflight: will the target's rows let each upgrade statement run?

`plan_checks(source, snapshot)` reads a revision's upgrade offline (the
linter's capture) and, for every statement whose success depends on the data,
plans one question: NULLs under SET NOT NULL or a new primary key, duplicates
under UNIQUE / PRIMARY KEY / unique indexes (partial, expression, NULLS NOT
DISTINCT), orphans under FOREIGN KEY, false rows under CHECK (at VALIDATE when
added NOT VALID), values a type change rejects, and what DROP COLUMN / DROP
TABLE lose. `run_preflight(...)` asks the target, read-only and time-limited,
sampling large tables, and returns a `PreflightReport`: `failed`, `failures()`,
`summary()` and `facts()` (what the generated sample rows must also satisfy).
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
