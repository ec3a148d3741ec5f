"""Proof of a drafted revision on a scratch copy: upgrade, downgrade, upgrade.

Uses `migagent.tools.verify.verify_revision` when it is available (it also
records locks, rewrites and data loss); otherwise runs the same round trip
with `tools.verify.runner.run_migration` and compares snapshots with
`diff_snapshots`. Either way the result is a `ProofReport` the spec can cite.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from migagent.errors import MigagentError
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
    before: SchemaSnapshot,
    *,
    name: str = "draft.py",
    checks: list[str] | None = None,
) -> ProofReport:
    """Round-trip `source` on a clone of `template`; never raises for a bad draft."""
    from migagent.tools.introspect import snapshot
    from migagent.tools.introspect.diff import diff_snapshots
    from migagent.tools.verify.revision import RevisionSource
    from migagent.tools.verify.runner import run_migration

    revision = RevisionSource.from_text(source, name=name)
    report = ProofReport(passed=False)
    try:
        module = revision.load()
    except MigagentError as exc:
        report.detail = f"the revision does not load: {exc}"
        return report
    with sandbox.scratch(template) as db:
        try:
            ups = run_migration(db, module, "upgrade")
        except MigagentError as exc:
            report.detail = str(exc)
            return report
        report.statements = _facts(ups, "upgrade")
        report.upgrade_ms = sum(s.duration_ms for s in report.statements)
        with db.connect() as conn:
            after = snapshot(conn)
            for q in checks or []:
                try:
                    rows = conn.execute(q).fetchall()
                    text = "; ".join(
                        ", ".join("NULL" if v is None else str(v) for v in row) for row in rows[:5]
                    )
                    if len(rows) > 5:
                        text += f"; … ({len(rows)} rows)"
                    report.check_results.append((q, text or "(no rows)"))
                except Exception as exc:  # a verification query that fails is reported, not fatal
                    conn.rollback()
                    report.check_results.append((q, f"error: {' '.join(str(exc).split())[:200]}"))
        report.after = after
        report.changes = [str(c) for c in diff_snapshots(before, after).changes]
        if not report.changes:
            report.detail = "the upgrade changed nothing in the schema"
        try:
            downs = run_migration(db, module, "downgrade")
        except MigagentError as exc:
            report.detail = str(exc)
            report.round_trip = False
            return report
        report.downgrade_statements = _facts(downs, "downgrade")
        with db.connect() as conn:
            restored = snapshot(conn)
        left = diff_snapshots(before, restored)
        report.round_trip = left.empty
        if not left.empty:
            report.detail = "the downgrade does not restore the schema: " + "; ".join(
                left.summary()[:5]
            )
            return report
        try:
            run_migration(db, module, "upgrade", observe=False)
        except MigagentError as exc:
            report.detail = f"upgrade after downgrade: {exc}"
            report.reupgrade = False
            return report
        with db.connect() as conn:
            again = snapshot(conn)
        report.reupgrade = diff_snapshots(after, again).empty
        if not report.reupgrade:
            report.detail = "the upgrade does not reproduce the same schema after a downgrade"
            return report
    report.passed = bool(report.changes)
    if report.passed:
        report.detail = (
            f"upgrade ({len(report.statements)} statements, {report.upgrade_ms:.0f} ms), downgrade "
            "restores the schema exactly, upgrade again reproduces it"
        )
    return report
