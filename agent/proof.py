"""Proof of a drafted revision: `migagent verify` on a scratch copy, in the terms the spec cites.

`verify_revision` does the work (sample rows, upgrade with locks and rewrites,
verification queries, downgrade to the exact starting schema, upgrade again);
this module only condenses its report into the facts `specfill` needs.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from migagent.tools.introspect.model import SchemaSnapshot
from migagent.tools.sandbox import Sandbox


class StatementFact(BaseModel):
    sql: str
    duration_ms: float = 0.0
    locks: dict[str, str] = Field(default_factory=dict)  # table -> strongest lock
    rewrites: list[str] = Field(default_factory=list)
    phase: str = "upgrade"


class ProofReport(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    passed: bool
    detail: str = ""
    after: SchemaSnapshot | None = None
    changes: list[str] = Field(default_factory=list)  # before -> after, in words
    statements: list[StatementFact] = Field(default_factory=list)
    downgrade_statements: list[StatementFact] = Field(default_factory=list)
    round_trip: bool | None = None
    reupgrade: bool | None = None
    check_results: list[tuple[str, str]] = Field(default_factory=list)  # (sql, result text)
    upgrade_ms: float = 0.0
    raw: Any = None  # the VerificationReport when verify ran


def _facts(records, phase: str) -> list[StatementFact]:
    out = []
    for r in records or []:
        out.append(
            StatementFact(
                sql=r.sql,
                duration_ms=float(r.duration_ms or 0.0),
                locks=dict(r.table_locks),
                rewrites=list(r.rewrites or []),
                phase=phase,
            )
        )
    return out


def prove(
    sandbox: Sandbox,
    template: str,
    source: str,
    *,
    name: str = "draft.py",
    checks: list[str] | None = None,
) -> ProofReport:
    """Verify `source` on a clone of `template`; never raises for a bad draft."""
    from migagent.tools.verify.revision import RevisionSource
    from migagent.tools.verify.verify import StartingPoint, verify_revision

    report = verify_revision(
        RevisionSource.from_text(source, name=name),
        StartingPoint.template(template),
        sandbox=sandbox,
        checks=checks or [],
    )
    statements = _facts(report.upgrade, "upgrade")
    proof = ProofReport(
        passed=report.passed and bool(report.schema_changes),
        after=report.after,
        changes=[str(c) for c in report.schema_changes],
        statements=statements,
        downgrade_statements=_facts(report.downgrade, "downgrade"),
        round_trip=_step_ok(report, "downgrade"),
        reupgrade=_step_ok(report, "reupgrade"),
        check_results=[(c.sql, _check_text(c)) for c in report.checks],
        upgrade_ms=sum(s.duration_ms for s in statements),
        raw=report,
    )
    if proof.passed:
        proof.detail = (
            f"upgrade ({len(statements)} statements, {proof.upgrade_ms:.0f} ms), downgrade "
            "restores the schema exactly, upgrade again reproduces it"
        )
    elif report.passed:
        proof.detail = "the upgrade changed nothing in the schema"
    else:
        proof.detail = "; ".join(report.reasons[:5]) or "verification failed"
    return proof


def _step_ok(report, name: str) -> bool | None:
    step = report.step(name)
    if step is None or step.status == "skipped":
        return None
    return step.status != "failed"


def _check_text(check) -> str:
    """A verification query's result in one line, as the spec shows it."""
    if check.error:
        return f"error: {check.error}"
    text = "; ".join(", ".join("NULL" if v is None else v for v in row) for row in check.rows[:5])
    if check.row_count > 5:
        text += f"; … ({check.row_count} rows)"
    return text or "(no rows)"
