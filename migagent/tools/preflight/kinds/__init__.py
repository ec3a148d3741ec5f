"""Statement kinds, one module each, registered in `KINDS` (dispatch key -> functions).

| module | statements |
|---|---|
| `not_null` | ALTER COLUMN SET NOT NULL; ADD COLUMN ... NOT NULL without a default |
| `unique` | ADD UNIQUE / PRIMARY KEY [USING INDEX], CREATE UNIQUE INDEX [CONCURRENTLY] |
| `foreign_key` | ADD FOREIGN KEY |
| `check` | ADD CHECK (CHECK (col IS NOT NULL) is the NOT NULL question) |
| `validate` | VALIDATE CONSTRAINT of a constraint added NOT VALID |
| `cast` | ALTER COLUMN TYPE [USING] |
| `drop` | DROP COLUMN, DROP TABLE (information: what is lost) |
"""

from migagent.tools.preflight.kinds import (  # noqa: F401  (imported to register their kinds)
    cast,
    check,
    drop,
    foreign_key,
    not_null,
    unique,
    validate,
)
from migagent.tools.preflight.kinds.registry import KINDS, checks_for, kind

__all__ = ["KINDS", "checks_for", "kind"]
