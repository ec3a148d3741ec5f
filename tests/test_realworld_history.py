"""Verify every revision of a production-shaped Alembic history (tests/projects/realworld),
on both server versions: uuid-ossp defaults (a stand-in on the embedded server),
alembic_utils functions and triggers, partitions, RLS, partial and expression
indexes, a materialized view, a batched data migration, an enum value.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from migagent.tools.sandbox import Sandbox
from migagent.tools.verify.revision import RevisionSource
from migagent.tools.verify.verify import StartingPoint, verify_revision

# slow: about 9 s on 2 cores: every revision of a real project verified
pytestmark = pytest.mark.slow

PROJECT = Path(__file__).parent / "projects" / "realworld"
REVISIONS = sorted((PROJECT / "migrations" / "versions").glob("*.py"))


@pytest.mark.parametrize("path", REVISIONS, ids=[p.stem[16:] for p in REVISIONS])
def test_every_revision_verifies(sandbox: Sandbox, path: Path) -> None:
    report = verify_revision(
        RevisionSource.from_path(path), StartingPoint.history(PROJECT), sandbox=sandbox, rows=20
    )
    assert report.passed, report.reasons
    assert report.upgrade, "the upgrade ran statements"


def test_a_downgrade_that_forgets_the_function_body_is_caught(sandbox: Sandbox, tmp_path) -> None:
    """Replacing set_updated_at() and 'restoring' it with the new body must show as a difference."""
    path = next(p for p in REVISIONS if "touch_updated_at" in p.name)
    broken = path.read_text().replace("op.replace_entity(OLD)", "op.replace_entity(NEW)")
    report = verify_revision(
        RevisionSource.from_text(broken, name=path.name),
        StartingPoint.history(PROJECT),
        sandbox=sandbox,
        rows=20,
    )
    assert not report.passed
    assert any("set_updated_at" in reason for reason in report.reasons), report.reasons
