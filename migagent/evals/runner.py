"""Score a drafting backend on eval cases, on a real database.

Each case: load `before.sql` once into a sandbox template; apply the golden to
one clone and the backend's draft to another; compare what they did to the
schema and the data; run the draft's downgrade and require the starting schema
back; lint the draft at the case's production sizes; check its spec is
complete. A refusal case only asks whether the backend drafted at all. Cases
run in worker processes, each with its own scratch databases.

The outcome (see `report`): a drafter raising an understanding error is
`refused`; a draft failing any check is `wrong`; a failure of the case files,
the golden or a crash is `error`.
"""

from __future__ import annotations

import concurrent.futures
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from migagent.agent.errors import UnderstandingError
from migagent.errors import MigagentError
from migagent.evals.case import CASES_DIR, EvalCase
from migagent.evals.report import CaseChecks, CaseResult, EvalReport
from migagent.tools.sandbox import Sandbox, ScratchDatabase

if TYPE_CHECKING:
    from migagent.agent.pipeline import BackendName
    from migagent.tools.verify.revision import RevisionSource
    from migagent.tools.verify.runner import Direction


def run_eval(
    cases: Iterable[EvalCase],
    *,
    backend: str = "offline",
    workers: int = 1,
    sandbox_url: str | None = None,
    on_result: Callable[[CaseResult], None] | None = None,
) -> EvalReport:
    """Run every case (in `workers` processes) and build the report."""
    cases = list(cases)
    sandbox = Sandbox.open(sandbox_url)
    started = time.perf_counter()
    results: list[CaseResult] = []
    if workers <= 1:
        for case in cases:
            results.append(run_case(case, backend=backend, sandbox_url=sandbox_url))
            if on_result:
                on_result(results[-1])
    else:
        with concurrent.futures.ProcessPoolExecutor(
            max_workers=workers, initializer=_die_with_parent, initargs=(os.getpid(),)
        ) as pool:
            futures = [
                pool.submit(run_case, case, backend=backend, sandbox_url=sandbox_url)
                for case in cases
            ]
            for future in concurrent.futures.as_completed(futures):
                results.append(future.result())
                if on_result:
                    on_result(results[-1])
    return EvalReport.build(backend, sandbox.version, results, time.perf_counter() - started)


PARENT_POLL_S = 1.0


def _die_with_parent(parent: int) -> None:
    """Worker initializer: end this worker when the eval process dies.

    A killed parent (SIGKILL, OOM) leaves pool workers blocked on the call queue
    forever, holding scratch databases. On Linux the kernel sends SIGKILL at the
    parent's death (prctl PR_SET_PDEATHSIG); elsewhere, and as a backstop, a
    daemon thread polls the parent pid. Their scratch databases carry their pids,
    so the next sandbox open drops them.
    """
    import signal
    import sys
    import threading

    forked = os.getppid() == parent  # else a forkserver/spawn helper is our parent
    if forked and sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
        if os.getppid() != parent:  # the parent died before the prctl took effect
            os._exit(1)

    def parent_alive() -> bool:
        if forked:  # reparented once the parent is gone, even while it is a zombie
            return os.getppid() == parent
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return True

    def watch() -> None:
        while parent_alive():
            time.sleep(PARENT_POLL_S)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def load_cases(root: str | Path | None = None, only: Iterable[str] = ()) -> list[EvalCase]:
    cases = EvalCase.load_all(root or CASES_DIR)
    wanted = set(only)
    if wanted:
        unknown = wanted - {c.id for c in cases}
        if unknown:
            raise MigagentError(
                f"no eval case named {', '.join(sorted(unknown))}", "check the --case names"
            )
        cases = [c for c in cases if c.id in wanted]
    return cases


Drafter = Callable[[EvalCase, Sandbox, str], "Draft"]


def run_case(
    case: EvalCase,
    *,
    backend: str,
    sandbox_url: str | None = None,
    drafter: Drafter | None = None,
) -> CaseResult:
    """Score one case; never raises (a harness error is part of the result).

    `drafter` replaces the backend (tests score hand-written drafts with it)."""
    started = time.perf_counter()
    result = CaseResult(id=case.id, tags=case.tags, must_refuse=case.must_refuse)
    try:
        sandbox = Sandbox.open(sandbox_url)
        template = sandbox.template_from_sql(case.before_sql(), source=f"{case.id}/before.sql")
        score = _score_refusal if case.must_refuse else _score
        score(case, drafter or _backend_drafter(backend), sandbox, template, result)
    except MigagentError as exc:
        result.error = str(exc)
    except Exception as exc:  # a crash in a backend is a failed case, not a failed run
        result.error = f"{type(exc).__name__}: {exc}"
    result.decide()
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def _draft_or_refusal(
    case: EvalCase, drafter: Drafter, sandbox: Sandbox, template: str, result: CaseResult
) -> Draft | None:
    """The drafter's draft, or None when it refused (the reason goes to `result.refusal`).

    Only a refusal counts as one: an understanding error (offline planner) or a
    draft error (Claude ran and gave up). Anything else it raises is a harness
    error, so a crashing backend is never scored as a careful one."""
    from migagent.agent.claude import ClaudeDraftError

    try:
        draft = drafter(case, sandbox, template)
    except (UnderstandingError, ClaudeDraftError) as exc:
        result.refusal = " ".join(str(exc).split())
        return None
    result.drafted = True
    return draft


def _score_refusal(
    case: EvalCase, drafter: Drafter, sandbox: Sandbox, template: str, result: CaseResult
) -> None:
    """A refusal case passes when the drafter refuses; any draft is wrong."""
    if _draft_or_refusal(case, drafter, sandbox, template, result) is not None:
        result.details.append(f"the case must be refused: {case.refuse}")


def _score(
    case: EvalCase, drafter: Drafter, sandbox: Sandbox, template: str, result: CaseResult
) -> None:
    from migagent.tools.introspect import snapshot
    from migagent.tools.introspect.diff import diff_snapshots
    from migagent.tools.verify.revision import RevisionSource

    checks: CaseChecks = result.checks
    with sandbox.scratch(template) as db, db.connect() as conn:
        before = snapshot(conn)

    golden = RevisionSource.from_path(case.golden_path)
    with sandbox.scratch(template) as db:
        _apply(db, golden, "upgrade", what="golden")
        with db.connect() as conn:
            after_golden = snapshot(conn)
            golden_data = _run_checks(conn, case.checks())

    draft = _draft_or_refusal(case, drafter, sandbox, template, result)
    if draft is None:
        return
    revision = RevisionSource.from_text(draft.revision_source, name=f"{case.id}_draft")

    with sandbox.scratch(template) as db:
        try:
            _apply(db, revision, "upgrade", what="draft")
        except _ApplyFailed as exc:
            result.details.append(str(exc))
            return
        checks.applies = True
        with db.connect() as conn:
            after_draft = snapshot(conn)
            draft_data = _run_checks(conn, case.checks(), failures=result.details)
        diff = diff_snapshots(
            after_golden, after_draft, ignore_names=True, exact_names=frozenset(case.exact_names)
        )
        checks.schema_match = diff.empty
        result.details += [f"schema differs from golden: {line}" for line in diff.summary()]
        checks.data_match = draft_data == golden_data
        if not checks.data_match:
            result.details.append("checks.sql results differ from the golden's")
        try:
            _apply(db, revision, "downgrade", what="draft")
        except _ApplyFailed as exc:
            result.details.append(str(exc))
        else:
            with db.connect() as conn:
                restored = diff_snapshots(before, snapshot(conn))
            checks.reversible = restored.empty
            result.details += [f"downgrade leaves: {line}" for line in restored.summary()]

    lint_errors = _lint_errors(draft.revision_source, case, sandbox)
    checks.safe = not lint_errors
    result.details += [f"lint: {e}" for e in lint_errors]
    missing = _spec_missing(draft.spec)
    checks.spec_complete = not missing
    if missing:
        result.details.append("spec is missing: " + ", ".join(missing))


class _ApplyFailed(Exception):
    pass


def _apply(
    db: ScratchDatabase, revision: RevisionSource, direction: Direction, *, what: str
) -> None:
    """Run the revision's upgrade() or downgrade() as Alembic would (no lock observation)."""
    from migagent.tools.verify.runner import run_migration

    try:
        run_migration(db, revision.load(), direction, observe=False)
    except Exception as exc:
        message = " ".join(str(exc).split())[:400]
        if what == "golden":
            raise MigagentError(
                f"the golden's {direction} fails: {message}", "fix golden.py"
            ) from exc
        raise _ApplyFailed(f"draft {direction} fails: {message}") from exc


def _run_checks(conn, queries: list[str], failures: list[str] | None = None) -> list:
    """Each query's rows as text (types that compare unequally across drivers stay equal)."""
    import psycopg

    results = []
    for query in queries:
        try:
            rows = conn.execute(query).fetchall()
            results.append([tuple(None if v is None else str(v) for v in row) for row in rows])
        except psycopg.Error as exc:
            conn.rollback()
            if failures is None:
                raise MigagentError(f"checks.sql query fails on the golden: {exc}") from exc
            failures.append(f"check query fails on the draft: {' '.join(str(exc).split())}")
            results.append(None)
    return results


class Draft(Protocol):
    revision_source: str
    spec: object | None


def _backend_name(backend: str) -> BackendName:
    if backend == "offline" or backend == "claude" or backend == "auto":
        return backend
    raise MigagentError(f"unknown backend {backend!r}", "use offline or claude")


def _backend_drafter(backend: str) -> Drafter:
    name = _backend_name(backend)

    def drafter(case: EvalCase, sandbox: Sandbox, template: str) -> Draft:
        from migagent.agent.pipeline import DraftOptions, SchemaSource, draft

        options = DraftOptions(
            backend=name,
            rows=case.rows,
            desired_sql=case.desired_sql(),
            estimate=False,
            verify=False,
        )
        return draft(
            case.request, SchemaSource.template(template), options=options, sandbox=sandbox
        )

    return drafter


def _lint_errors(source: str, case: EvalCase, sandbox: Sandbox) -> list[str]:
    from migagent.tools.lint import LintContext, lint_revision_source

    report = lint_revision_source(
        source, LintContext(rows=case.rows, pg_version=sandbox.version // 10000)
    )
    return [f"{f.rule}: {f.message}" for f in report.findings if f.severity == "error"]


def _spec_missing(spec) -> list[str]:
    from migagent.spec import spec_completeness

    if spec is None:
        return ["the whole spec"]
    return spec_completeness(spec)


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))
