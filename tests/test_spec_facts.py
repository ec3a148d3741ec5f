"""The facts a drafted spec calls measured are the ones verify observed."""

from __future__ import annotations

from migagent.agent.pipeline import DraftOptions, SchemaSource, draft
from migagent.tools.sandbox import Sandbox


def test_fts_draft_reports_the_locks_verify_observed(sandbox: Sandbox) -> None:
    result = draft(
        "add full-text search index to sections",
        SchemaSource.demo(),
        options=DraftOptions(backend="offline", estimate=False),
        sandbox=sandbox,
    )
    assert result.verified
    observed: dict[str, str] = {}
    for statement in result.verification.statements:
        observed.update(statement.locks)
    assert observed.get("public.sections") == "ACCESS EXCLUSIVE"  # ADD COLUMN ... STORED
    locking = result.spec.performance.table_locking
    assert locking.source == "measured"
    assert "public.sections: ACCESS EXCLUSIVE" in locking.value
