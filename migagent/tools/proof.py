"""The one proof stage: every revision, whoever wrote it, is proven the same way.

The offline planner, the desired-schema path, Claude's `submit_draft`, the MCP
tools and `migagent verify` all call `prove()`. It runs, in order:

1. **target preflight** (when there is a target): each data-dependent statement
   of the upgrade is asked of the target's rows, read-only (`tools.preflight`);
2. **verify** on a scratch copy whose generated rows respect what the target's
   rows showed (`tools.datafacts`): upgrade, downgrade to the exact starting
   schema, upgrade again, with locks, rewrites and data changes observed;
3. **lint** at the target's sizes and major version, with one `LintContext`
   built from the snapshot (`lint_context`);
4. **estimate** (optional) at the production size of the tables it touches.

The same source against the same inputs gets the same `Proof`, so the spec's
facts and the exit code mean the same for every backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from migagent.errors import MigagentError
from migagent.tools.datafacts import DataFacts
from migagent.tools.introspect.model import SchemaSnapshot
from migagent.tools.lint.context import LintContext
from migagent.tools.sandbox import Sandbox
from migagent.tools.verify.fenced import RevisionRefused
from migagent.tools.verify.report import Failure, StepResult, VerificationReport
from migagent.tools.verify.revision import RevisionSource
from migagent.tools.verify.verify import StartingPoint


class StatementFact(BaseModel):
    """One statement as the spec cites it."""

    sql: str
    duration_ms: float = 0.0
    locks: dict[str, str] = Field(default_factory=dict)  # table -> strongest lock
    rewrites: list[str] = Field(default_factory=list)
    phase: str = "upgrade"


@dataclass(frozen=True)
class ProofInputs:
    """What a revision is proven against: the starting schema, the target, the sizes."""

    sandbox: Sandbox
    start: StartingPoint
    #: the current schema with the target's sizes and server version (None: read from `start`)
    before: SchemaSnapshot | None = None
    #: the user's database: preflight, sample-row profile and sizes come from it (read-only)
    target_url: str | None = None
    rows: dict[str, int] = field(default_factory=dict)  # --rows overrides, by table
    large_rows: int | None = None
    sample_rows: int = 100
    notices: list[str] = field(default_factory=list)  # e.g. what the schema copy dropped

    @classmethod
    def for_template(cls, sandbox: Sandbox, template: str, **kwargs: Any) -> ProofInputs:
        return cls(sandbox=sandbox, start=StartingPoint.template(template), **kwargs)

    @classmethod
    def for_target(cls, sandbox: Sandbox, url: str, **kwargs: Any) -> ProofInputs:
        """The target's schema copied into a template, its catalog (sizes, version) as `before`."""
        from migagent.tools import pgurl, target
        from migagent.tools.introspect import snapshot

        url = pgurl.libpq_url(url)
        template = sandbox.template_from_target(url)
        with target.connect_readonly(url) as conn:
            before = snapshot(conn)
        return cls(
            sandbox=sandbox,
            start=StartingPoint.template(template),
            before=before,
            target_url=url,
            notices=copy_notices(sandbox, template),
            **kwargs,
        )

    @property
    def template(self) -> str | None:
        return self.start.value if self.start.kind == "template" else None

    def sizes(self) -> dict[str, int]:
        """Rows per qualified table: `--rows` over the catalog's estimates."""
        snap = self.before
        out = {name: max(t.row_estimate, 0) for name, t in (snap.tables if snap else {}).items()}
        for key, n in self.rows.items():
            name = key.lower() if "." in key else f"public.{key.lower()}"
            matches = [q for q in out if q.lower() == name] or [name]
            for q in matches:
                out[q] = int(n)
        return out

    def lint_context(self) -> LintContext:
        """The one lint context: sizes, the target's major version, indexes, column types."""
        return lint_context(self.before, self.rows, self.large_rows)


def copy_notices(sandbox: Sandbox, template: str) -> list[str]:
    """What copying the schema into the sandbox left out (unknown options, extensions)."""
    from migagent.tools.sqlscript import summarize_notices

    return summarize_notices(sandbox.copy_notices(template))


def lint_context(
    snap: SchemaSnapshot | None, rows: dict[str, int], large_rows: int | None = None
) -> LintContext:
    """What the linter is told about the target: the one builder, from its snapshot."""
    from migagent.tools.lint.context import context_from_snapshot

    return context_from_snapshot(snap, rows, large_rows=large_rows)


class Proof(BaseModel):
    """Everything the proof measured about one revision, and the verdict."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    #: verified on the copy, changes something, and the target's rows allow every statement
    passed: bool
    detail: str = ""
    verification: VerificationReport | None = None
    lint: Any = None  # LintReport
    lint_errors: list[str] = Field(default_factory=list)
    preflight: Any = None  # PreflightReport, when there is a target
    estimate: Any = None  # Estimate
    facts: DataFacts = Field(default_factory=DataFacts)  # what the sample rows respected
    notices: list[str] = Field(default_factory=list)
    proof_server: str = ""  # which server ran the migration, and the target's version
    # condensed for the spec
    after: SchemaSnapshot | None = None
    changes: list[str] = Field(default_factory=list)  # schema, before -> after, in words
    data_changes: list[str] = Field(default_factory=list)
    data_restored: bool | None = None
    statements: list[StatementFact] = Field(default_factory=list)
    downgrade_statements: list[StatementFact] = Field(default_factory=list)
    round_trip: bool | None = None
    reupgrade: bool | None = None
    check_results: list[tuple[str, str]] = Field(default_factory=list)  # (sql, result text)
    upgrade_ms: float = 0.0

    @property
    def ok(self) -> bool:
        """Passed and lint-clean at the target's sizes: safe to write."""
        return self.passed and not self.lint_errors

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    @property
    def raw(self) -> VerificationReport | None:  # older name, kept for the spec filler
        return self.verification

    def meta_fields(self) -> dict[str, Any]:
        """The spec's `SpecMeta` fields this proof fills, for every backend alike."""
        lines = (
            [f"{r.status}: {r.message}" for r in self.preflight.results]
            if self.preflight is not None
            else []
        )
        return {"preflight": lines, "proof_server": self.proof_server, "notices": self.notices}

    @property
    def preflight_failures(self) -> list[str]:
        if self.preflight is None:
            return []
        return [r.message for r in self.preflight.failures()]


def prove(
    source: str | RevisionSource,
    inputs: ProofInputs,
    *,
    name: str = "revision.py",
    checks: Sequence[str] = (),
    untrusted: bool = False,
    lint: bool = True,
    estimate: bool = False,
    estimate_budget_s: float = 20.0,
    require_change: bool = True,
    **verify_options: Any,
) -> Proof:
    """Prove `source` against `inputs`; never raises for a bad revision.

    `untrusted`: model-written Python, checked statically and run in a fenced
    child process with a time limit. `require_change`: a draft that changes
    neither the schema nor any row did not do what was asked (a merge revision
    checked by `migagent verify` may). `verify_options` go to `verify_revision`
    (timeouts, `check_round_trip`). Raises MigagentError only for usage and
    environment problems (an unreachable sandbox, a bad starting point).
    """
    revision = (
        source
        if isinstance(source, RevisionSource)
        else RevisionSource.from_text(source, name=name)
    )
    source = revision.text
    notices = list(inputs.notices)
    try:
        problems = capture_fenced(source, revision.label) if untrusted else []
    except RevisionRefused as refused:  # it may not run: no second child to say so again
        return _refused(revision, inputs, refused.reasons, notices)
    notices += [f"the revision's SQL could not be read offline: {p}" for p in problems]
    # only an unread upgrade() blocks lint and preflight (a downgrade may raise offline)
    problems = [] if not untrusted or _upgrade_read(source) else problems or ["no upgrade()"]
    preflight = _preflight(source, inputs, notices) if not problems else None
    facts = _facts(preflight, inputs, notices)
    verification = _verify(revision, inputs, checks, facts, untrusted, verify_options)
    proof = Proof(passed=False, verification=verification, preflight=preflight, facts=facts)
    _condense(proof, verification)
    proof.proof_server = _proof_server(inputs, verification)
    if inputs.before is None and verification.before is not None:
        inputs = replace(inputs, before=verification.before)
    if lint and problems:
        proof.lint_errors = [f"lint could not run: {p}" for p in problems[:3]]
    elif lint:
        proof.lint, proof.lint_errors = lint_for(source, inputs, revision.label)
    failures = proof.preflight_failures
    changed = bool(verification.schema_changes or verification.data_changes)
    proof.passed = verification.passed and (changed or not require_change) and not failures
    if failures:
        proof.detail = "; ".join(failures[:5])
    elif not verification.passed:
        proof.detail = "; ".join(verification.reasons[:5]) or "verification failed"
    elif not changed and require_change:
        proof.detail = "the upgrade changed nothing: no schema change and no row changed"
    else:
        what = ", ".join(
            p
            for p in (
                f"{len(verification.schema_changes)} schema changes"
                if verification.schema_changes
                else "",
                f"{len(verification.data_changes)} data changes"
                if verification.data_changes
                else "",
            )
            if p
        )
        back = (
            "downgrade restores the schema exactly" if proof.round_trip else "no downgrade was run"
        )
        if verification.data_changes and proof.data_restored is False:
            back += " but not the changed rows"
        proof.detail = (
            f"upgrade ({len(proof.statements)} statements, {proof.upgrade_ms:.0f} ms, {what}), "
            f"{back}" + (", upgrade again reproduces it" if proof.reupgrade else "")
        )
    if estimate and proof.passed:
        proof.estimate = estimate_for(source, inputs, estimate_budget_s, notices)
    proof.notices = notices
    return proof


# ------------------------------------------------------------------ the steps
def _refused(
    revision: RevisionSource, inputs: ProofInputs, reasons: list[str], notices: list[str]
) -> Proof:
    """The proof of a model-written revision that may not run (static check, time limit)."""
    report = VerificationReport(source=revision.label, starting_point=inputs.start.describe())
    report.steps.append(StepResult(name="load", status="failed", reasons=reasons))
    report.failure = Failure(step="load", message=reasons[0])
    return Proof(
        passed=False,
        detail="load: " + "; ".join(reasons[:3]),
        verification=report,
        lint_errors=[f"lint could not run: {reasons[0]}"],
        notices=notices,
    )


def _upgrade_read(source: str) -> bool:
    from migagent.tools.lint.revision import is_preloaded

    return is_preloaded(source, "upgrade")


def capture_fenced(source: str, name: str = "revision.py") -> list[str]:
    """Model-written code never runs in this process: its offline SQL (what lint, the
    preflight and the spec read) is captured once, in the fenced child. The problems."""
    from migagent.tools.lint.revision import is_preloaded
    from migagent.tools.verify.fenced import capture_untrusted

    if is_preloaded(source, "upgrade"):
        return []
    return capture_untrusted(source, name=name)


def _preflight(source: str, inputs: ProofInputs, notices: list[str]) -> Any:
    if not inputs.target_url or inputs.before is None:
        return None
    from migagent.tools.preflight import run_preflight

    try:
        return run_preflight(source, inputs.target_url, inputs.before)
    except MigagentError as exc:
        notices.append(f"target preflight skipped: {exc}")
        return None


def _facts(preflight: Any, inputs: ProofInputs, notices: list[str]) -> DataFacts:
    """What the sample rows must respect: the preflight's clean checks and the target profile."""
    facts = list(preflight.facts().facts) if preflight is not None else []
    if inputs.target_url and inputs.before is not None:
        try:
            from migagent.tools import target
            from migagent.tools.target_profile import profile_facts

            with target.connect_readonly(inputs.target_url) as conn:
                facts.extend(profile_facts(conn, inputs.before).facts)
        except MigagentError as exc:
            notices.append(f"target profile skipped: {exc}")
        except Exception as exc:  # a read of pg_stats must never sink the proof
            notices.append(f"target profile skipped: {type(exc).__name__}: {exc}")
    return DataFacts.of(facts)


def _verify(
    revision: RevisionSource,
    inputs: ProofInputs,
    checks: Sequence[str],
    facts: DataFacts,
    untrusted: bool,
    options: dict[str, Any],
) -> VerificationReport:
    from migagent.tools.verify import verify_revision

    kwargs: dict[str, Any] = {
        "sandbox": inputs.sandbox,
        "rows": inputs.sample_rows,
        "checks": list(checks),
        "data_facts": facts or None,
        **options,
    }
    if untrusted:
        from migagent.tools.verify.fenced import verify_untrusted

        return verify_untrusted(revision.text, inputs.start, name=revision.label, **kwargs)
    return verify_revision(revision, inputs.start, **kwargs)


def lint_for(source: str, inputs: ProofInputs, name: str = "revision.py") -> tuple[Any, list[str]]:
    from migagent.tools.lint import lint_revision_source

    try:
        report = lint_revision_source(source, inputs.lint_context(), file=name)
    except MigagentError as exc:
        return None, [f"lint could not run: {exc}"]
    errors = [f"{f.rule}: {f.message}" for f in report.findings if f.severity == "error"]
    return report, errors


def estimate_for(source: str, inputs: ProofInputs, budget_s: float, notices: list[str]) -> Any:
    template = inputs.template
    if template is None:
        return None
    from migagent.tools.estimate import estimate_revision
    from migagent.tools.lint.revision import is_untrusted

    if is_untrusted(source):
        from migagent.tools.verify.fenced import estimate_untrusted

        try:
            return estimate_untrusted(
                source, template, rows=inputs.sizes(), sandbox=inputs.sandbox, budget_s=budget_s
            )
        except MigagentError as exc:
            notices.append(f"estimate skipped: {exc}")
            return None

    try:
        return estimate_revision(
            source, template, rows=inputs.sizes(), sandbox=inputs.sandbox, budget_s=budget_s
        )
    except MigagentError as exc:
        notices.append(f"estimate skipped: {exc}")
        return None


def _proof_server(inputs: ProofInputs, report: VerificationReport) -> str:
    ran = _pg(report.server_version) if report.server_version else "the sandbox"
    where = "embedded sandbox" if inputs.sandbox.embedded else "sandbox server"
    text = f"PostgreSQL {ran} ({where})"
    target = inputs.before.server_version if inputs.before is not None else 0
    if target and report.server_version and target // 10000 != report.server_version // 10000:
        text += (
            f"; the target runs PostgreSQL {_pg(target)}: linted at {target // 10000}, "
            "use --sandbox-url for a same-version proof"
        )
    return text


def _pg(version_num: int) -> str:
    return f"{version_num // 10000}.{version_num % 10000}"


# ------------------------------------------------------------------ condensing
def _condense(proof: Proof, report: VerificationReport) -> None:
    proof.after = report.after
    proof.changes = [str(c) for c in report.schema_changes]
    proof.data_changes = list(report.data_changes)
    proof.data_restored = report.data_restored
    proof.statements = _facts_of(report.upgrade, "upgrade")
    proof.downgrade_statements = _facts_of(report.downgrade, "downgrade")
    proof.round_trip = _step_ok(report, "downgrade")
    proof.reupgrade = _step_ok(report, "reupgrade")
    proof.check_results = [(c.sql, _check_text(c)) for c in report.checks]
    proof.upgrade_ms = sum(s.duration_ms for s in proof.statements)


def _facts_of(records: Sequence[Any], phase: str) -> list[StatementFact]:
    return [
        StatementFact(
            sql=r.sql,
            duration_ms=float(r.duration_ms or 0.0),
            locks=dict(r.table_locks),
            rewrites=list(r.rewrites or []),
            phase=phase,
        )
        for r in records or []
    ]


def _step_ok(report: VerificationReport, name: str) -> bool | None:
    step = report.step(name)  # type: ignore[arg-type]
    if step is None or step.status == "skipped":
        return None
    return step.status != "failed"


def _check_text(check: Any) -> str:
    """A verification query's result in one line, as the spec shows it."""
    if check.error:
        return f"error: {check.error}"
    text = "; ".join(", ".join("NULL" if v is None else v for v in row) for row in check.rows[:5])
    if check.row_count > 5:
        text += f"; … ({check.row_count} rows)"
    return text or "(no rows)"
