"""`migagent verify`: prove an Alembic revision on a throwaway copy of the schema.

Public API (stable; used by the CLI, the planners, the Claude agent, the MCP
server, the eval runner and `migagent check`):

- `verify_revision(source, start, *, sandbox=None, rows=100, checks=(),
  lock_timeout_ms=5000, statement_timeout_ms=60000, check_round_trip=True)
  -> VerificationReport`
- `RevisionSource.from_path(path)` / `RevisionSource.from_text(text, name=...)`
- `StartingPoint.template(name)` / `.schema_sql(text)` / `.schema_file(path)` /
  `.target(url)` / `.history(project=None)`
- `run_migration(db, module, direction, *, lock_timeout_ms, statement_timeout_ms,
  observe=True) -> list[StatementRecord]` (raises `MigrationError`), and
  `MigrationSession` to run several phases on one connection.
"""

from migagent.tools.verify.report import (
    LOCK_MODES,
    BlockingLock,
    CheckResult,
    DataLoss,
    DataLossFinding,
    Failure,
    LockRecord,
    StatementRecord,
    StepResult,
    VerificationReport,
    normalize_mode,
)
from migagent.tools.verify.revision import (
    AlembicProject,
    RevisionLoadError,
    RevisionModule,
    RevisionSource,
    find_project,
)
from migagent.tools.verify.runner import (
    DEFAULT_LOCK_TIMEOUT_MS,
    DEFAULT_STATEMENT_TIMEOUT_MS,
    MigrationError,
    MigrationSession,
    run_migration,
)
from migagent.tools.verify.verify import StartingPoint, verify_revision

__all__ = [
    "DEFAULT_LOCK_TIMEOUT_MS",
    "DEFAULT_STATEMENT_TIMEOUT_MS",
    "LOCK_MODES",
    "AlembicProject",
    "BlockingLock",
    "CheckResult",
    "DataLoss",
    "DataLossFinding",
    "Failure",
    "LockRecord",
    "MigrationError",
    "MigrationSession",
    "RevisionLoadError",
    "RevisionModule",
    "RevisionSource",
    "StartingPoint",
    "StatementRecord",
    "StepResult",
    "VerificationReport",
    "find_project",
    "normalize_mode",
    "run_migration",
    "verify_revision",
]
