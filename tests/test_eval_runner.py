"""The eval scorer on a real database: each check catches what it is there to catch.

Drafts here are hand-written revisions for a bundled case, so the scorer is tested
apart from any backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from test_spec import full_spec

from migagent.evals.case import CASES_DIR, EvalCase
from migagent.evals.runner import run_case
from migagent.tools.sandbox import Sandbox

pytestmark = pytest.mark.slow  # runs eval cases on the sandbox (~10 s)

CASE = EvalCase.load(CASES_DIR / "orders_customer_id_index")

HEADER = 'from alembic import op\n\nrevision = "x"\ndown_revision = None\n\n\n'
SAFE_UP = """def upgrade():
    with op.get_context().autocommit_block():
        op.create_index("ix_whatever", "orders", ["customer_id"], postgresql_concurrently=True)
"""
SAFE_DOWN = """def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index("ix_whatever", table_name="orders", postgresql_concurrently=True)
"""


@dataclass
class Draft:
    revision_source: str
    spec: object | None


def score(sandbox: Sandbox, source: str, spec=None):
    def drafter(case, sb, template):
        return Draft(source, spec if spec is not None else full_spec())

    url = None if sandbox.embedded else sandbox.url
    return run_case(CASE, backend="test", sandbox_url=url, drafter=drafter)


def test_a_correct_draft_passes_every_check(sandbox: Sandbox) -> None:
    result = score(sandbox, HEADER + SAFE_UP + "\n\n" + SAFE_DOWN)
    assert result.error is None, result.details
    assert result.checks.failed() == [], result.details
    assert result.passed


def test_index_names_are_ignored_but_columns_are_not(sandbox: Sandbox) -> None:
    wrong_column = (HEADER + SAFE_UP + "\n\n" + SAFE_DOWN).replace('["customer_id"]', '["status"]')
    result = score(sandbox, wrong_column)
    assert result.checks.applies and result.checks.reversible
    assert not result.checks.schema_match
    assert any("schema differs" in d for d in result.details)


def test_a_downgrade_that_forgets_the_index_is_not_reversible(sandbox: Sandbox) -> None:
    result = score(sandbox, HEADER + SAFE_UP + "\n\ndef downgrade():\n    pass\n")
    assert result.checks.schema_match and not result.checks.reversible
    assert not result.passed


def test_a_blocking_index_on_a_large_table_is_unsafe(sandbox: Sandbox) -> None:
    unsafe = HEADER + (
        'def upgrade():\n    op.create_index("ix_whatever", "orders", ["customer_id"])\n\n\n'
        'def downgrade():\n    op.drop_index("ix_whatever", table_name="orders")\n'
    )
    result = score(sandbox, unsafe)
    assert result.checks.schema_match and result.checks.reversible
    assert not result.checks.safe
    assert any(d.startswith("lint:") for d in result.details)


def test_a_draft_that_does_not_apply_fails_applies(sandbox: Sandbox) -> None:
    broken = HEADER + 'def upgrade():\n    op.execute("CREATE INDEX ON no_such_table (x)")\n\n\n'
    broken += "def downgrade():\n    pass\n"
    result = score(sandbox, broken)
    assert not result.checks.applies and not result.passed
    assert any("no_such_table" in d for d in result.details)


def test_an_incomplete_spec_fails_spec_complete(sandbox: Sandbox) -> None:
    spec = full_spec()
    spec.rollback.procedure = ""
    result = score(sandbox, HEADER + SAFE_UP + "\n\n" + SAFE_DOWN, spec=spec)
    assert not result.checks.spec_complete
    assert result.checks.schema_match and result.checks.safe


def test_an_understanding_error_is_a_refusal(sandbox: Sandbox) -> None:
    from migagent.agent.errors import UnderstandingError

    def drafter(case, sb, template):
        raise UnderstandingError("could not understand", ["add_column"])

    url = None if sandbox.embedded else sandbox.url
    result = run_case(CASE, backend="test", sandbox_url=url, drafter=drafter)
    assert result.outcome == "refused" and not result.passed and not result.drafted
    assert result.error is None and "could not understand" in (result.refusal or "")


def test_a_crashing_backend_is_a_harness_error_not_a_refusal(sandbox: Sandbox) -> None:
    def drafter(case, sb, template):
        raise KeyError("boom")

    url = None if sandbox.embedded else sandbox.url
    result = run_case(CASE, backend="test", sandbox_url=url, drafter=drafter)
    assert result.outcome == "error" and "KeyError" in (result.error or "")


def test_a_wrong_draft_is_wrong_not_refused(sandbox: Sandbox) -> None:
    result = score(sandbox, HEADER + SAFE_UP + "\n\ndef downgrade():\n    pass\n")
    assert result.outcome == "wrong" and result.drafted and result.refusal is None


def _refusal_case(tmp_path: Path) -> EvalCase:
    folder = tmp_path / "ambiguous_date"
    folder.mkdir()
    (folder / "before.sql").write_text(CASE.before_sql())
    (folder / "case.toml").write_text(
        'request = "make the date required"\nrefuse = "orders has no single date column"\n'
    )
    return EvalCase.load(folder)


def test_a_refusal_case_passes_only_without_a_draft(sandbox: Sandbox, tmp_path: Path) -> None:
    from migagent.agent.errors import AmbiguousRequest

    case = _refusal_case(tmp_path)
    url = None if sandbox.embedded else sandbox.url

    def refuses(c, sb, template):
        raise AmbiguousRequest("which date?", ["orders.created_at", "customers.created_at"])

    def drafts(c, sb, template):
        return Draft(HEADER + SAFE_UP + "\n\n" + SAFE_DOWN, full_spec())

    asked_back = run_case(case, backend="test", sandbox_url=url, drafter=refuses)
    assert asked_back.outcome == "pass" and asked_back.must_refuse
    drafted = run_case(case, backend="test", sandbox_url=url, drafter=drafts)
    assert drafted.outcome == "wrong" and drafted.drafted
    assert any("must be refused" in d for d in drafted.details)


def test_lint_context_takes_the_major_of_any_version_spelling() -> None:
    from migagent.tools.lint import LintContext

    assert LintContext(pg_version=150020).pg_version == 15
    assert LintContext(pg_version="15.4").pg_version == 15
