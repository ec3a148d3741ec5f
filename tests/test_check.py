"""`migagent check` on real multi-revision Alembic projects, run on real servers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from migagent.cli import main
from migagent.errors import UsageError
from migagent.tools.check import build_lint_context, check_project

# slow: about 17 s on 2 cores: migagent check over whole Alembic projects
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent

ENV_PY = '''\
"""A conventional env.py: Alembic users run it; migagent check does not need it."""
from alembic import context
from sqlalchemy import create_engine, pool

url = context.config.get_main_option("sqlalchemy.url")
engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
'''

INI = """\
[alembic]
script_location = migrations
file_template = %%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d_%%(slug)s
sqlalchemy.url = postgresql+psycopg://nobody@localhost:1/nothing
"""

# (revision, down_revision, file slug, upgrade body, downgrade body)
CLEAN = [
    (
        "a1users",
        None,
        "2025_01_01_0900_create_users",
        """
        op.create_table(
            "users",
            sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
            sa.Column("email", sa.Text, nullable=False),
        )
        """,
        'op.drop_table("users")',
    ),
    (
        "a2name",
        "a1users",
        "2025_01_02_0900_add_name_to_users",
        'op.add_column("users", sa.Column("name", sa.Text, nullable=True))',
        'op.drop_column("users", "name")',
    ),
    (
        "a3orders",
        "a2name",
        "2025_01_03_0900_create_orders",
        """
        op.create_table(
            "orders",
            sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
            sa.Column(
                "user_id",
                sa.BigInteger,
                sa.ForeignKey("users.id", name="fk_orders_user_id_users"),
                nullable=False,
            ),
            sa.Column("total", sa.Numeric(12, 2), nullable=False, server_default="0"),
        )
        op.create_index("ix_orders_user_id", "orders", ["user_id"])
        """,
        """
        op.drop_index("ix_orders_user_id", table_name="orders")
        op.drop_table("orders")
        """,
    ),
]

ADD_STATUS = (
    "a4status",
    "a3orders",
    "2025_01_04_0900_add_status_to_orders",
    'op.add_column("orders", sa.Column("status", sa.Text, nullable=True))',
    'op.drop_column("orders", "status")',
)


def revision_file(rev: str, down: str | None, slug: str, upgrade: str, downgrade: str) -> str:
    def body(code: str) -> str:
        return textwrap.indent(textwrap.dedent(code).strip("\n"), "    ")

    return (
        f'"""{slug.split("_", 4)[-1].replace("_", " ")}\n\nRevision ID: {rev}\n"""\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f"revision = {rev!r}\ndown_revision = {down!r}\n"
        "branch_labels = None\ndepends_on = None\n\n\n"
        f"def upgrade() -> None:\n{body(upgrade)}\n\n\n"
        f"def downgrade() -> None:\n{body(downgrade)}\n"
    )


def make_project(root: Path, revisions, *, specs: bool = True) -> Path:
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "alembic.ini").write_text(INI)
    (root / "migrations" / "env.py").write_text(ENV_PY)
    (root / "docs" / "migrations").mkdir(parents=True)
    for rev, down, slug, up, downgrade in revisions:
        (versions / f"{slug}.py").write_text(revision_file(rev, down, slug, up, downgrade))
        if specs:
            (root / "docs" / "migrations" / f"{slug}.md").write_text(f"# {slug}\n")
    return root


def by_rev(report):
    return {r.revision: r for r in report.revisions}


def test_clean_history_passes(tmp_path: Path, sandbox) -> None:
    project = make_project(tmp_path, [*CLEAN, ADD_STATUS])
    report = check_project(project, sandbox=sandbox)
    assert report.passed, report.all_problems
    assert report.exit_code == 0
    assert report.heads == ["a4status"]
    assert [r.revision for r in report.revisions] == ["a1users", "a2name", "a3orders", "a4status"]
    for r in report.revisions:
        assert r.roundtrip == "passed"
        assert r.lint is not None and r.lint.errors == 0
        assert r.spec == f"docs/migrations/{Path(r.path).stem}.md"
    assert report.server_version == sandbox.version


def test_branched_history_reports_each_branch(tmp_path: Path, sandbox) -> None:
    other = (
        "b4notes",
        "a3orders",
        "2025_01_04_1000_add_notes_to_users",
        'op.add_column("users", sa.Column("notes", sa.Text, nullable=True))',
        'op.drop_column("users", "notes")',
    )
    after = (
        "b5more",
        "b4notes",
        "2025_01_05_1000_add_bio_to_users",
        'op.add_column("users", sa.Column("bio", sa.Text, nullable=True))',
        'op.drop_column("users", "bio")',
    )
    project = make_project(tmp_path, [*CLEAN, ADD_STATUS, other, after])
    report = check_project(project, sandbox=sandbox)
    assert not report.passed
    assert report.heads == ["a4status", "b5more"]
    branches = {b.head: b for b in report.branches}
    assert branches["a4status"].revisions == ["a4status"]
    assert branches["b5more"].revisions == ["b5more", "b4notes"]
    assert {b.branch_point for b in report.branches} == {"a3orders"}
    (problem,) = report.problems
    assert "2 heads" in problem and "b5more (b5more <- b4notes from a3orders)" in problem
    # The revisions themselves are fine and still checked, branches included.
    assert all(r.roundtrip == "passed" for r in report.revisions)


def test_broken_downgrade_is_caught_and_later_revisions_still_checked(
    tmp_path: Path, sandbox
) -> None:
    leaves_column = (
        "c4keeps",
        "a3orders",
        "2025_01_04_0900_add_status_to_orders",
        'op.add_column("orders", sa.Column("status", sa.Text, nullable=True))',
        "pass",
    )
    wrong_drop = (
        "c5wrong",
        "c4keeps",
        "2025_01_05_0900_add_country_to_users",
        'op.add_column("users", sa.Column("country", sa.Text, nullable=True))',
        'op.drop_column("users", "no_such_column")',
    )
    fine = (
        "c6fine",
        "c5wrong",
        "2025_01_06_0900_add_note_to_orders",
        'op.add_column("orders", sa.Column("note", sa.Text, nullable=True))',
        'op.drop_column("orders", "note")',
    )
    project = make_project(tmp_path, [*CLEAN, leaves_column, wrong_drop, fine])
    report = check_project(project, sandbox=sandbox)
    assert not report.passed and report.exit_code == 1
    results = by_rev(report)

    keeps = results["c4keeps"]
    assert keeps.roundtrip == "failed"
    (problem,) = keeps.problems
    assert "downgrade does not restore the schema" in problem and "status" in problem

    wrong = results["c5wrong"]
    assert wrong.roundtrip == "failed"
    assert "downgrade failed" in wrong.problems[0] and "no_such_column" in wrong.problems[0]

    assert results["c6fine"].roundtrip == "passed" and results["c6fine"].passed
    assert all(results[r].passed for r in ("a1users", "a2name", "a3orders"))


def test_irreversible_downgrade_is_a_warning(tmp_path: Path, sandbox) -> None:
    irreversible = (
        "d4drop",
        "a3orders",
        "2025_01_04_0900_drop_name_from_users",
        'op.drop_column("users", "name")',
        'raise NotImplementedError("the dropped names cannot be restored")',
    )
    readd = (
        "d5readd",
        "d4drop",
        "2025_01_05_0900_add_display_name_to_users",
        'op.add_column("users", sa.Column("name", sa.Text, nullable=True))',
        'op.drop_column("users", "name")',
    )
    project = make_project(tmp_path, [*CLEAN, irreversible, readd])
    report = check_project(project, sandbox=sandbox)
    results = by_rev(report)
    drop = results["d4drop"]
    assert drop.passed and drop.roundtrip == "warning"
    assert any("irreversible" in w and "cannot be restored" in w for w in drop.warnings)
    # The walk carried on from the upgraded state: the column is gone, so it can be re-added.
    assert results["d5readd"].roundtrip == "passed"
    assert report.passed, report.all_problems


def test_downgrade_leaving_an_extra_object_is_caught(tmp_path: Path, sandbox) -> None:
    sloppy = (
        "f4seq",
        "a3orders",
        "2025_01_04_0900_create_counter",
        'op.execute("CREATE SEQUENCE counter")',
        'op.execute("DROP SEQUENCE counter")\nop.execute("CREATE TABLE leftover (id int)")',
    )
    project = make_project(tmp_path, [*CLEAN, sloppy])
    report = check_project(project, sandbox=sandbox)
    bad = by_rev(report)["f4seq"]
    assert bad.roundtrip == "failed"
    assert "downgrade does not restore the schema" in bad.problems[0]
    assert "leftover" in bad.problems[0]


def test_a_revision_that_does_not_import_is_reported(tmp_path: Path) -> None:
    project = make_project(tmp_path, CLEAN)
    (project / "migrations/versions/2025_01_02_0900_add_name_to_users.py").write_text("def (:\n")
    report = check_project(project, roundtrip=False)
    assert report.exit_code == 1
    (problem,) = report.problems
    assert "history is broken" in problem and "SyntaxError" in problem


def test_unsafe_revisions_fail_lint(tmp_path: Path, sandbox) -> None:
    blocking_index = (
        "e4index",
        "a3orders",
        "2025_01_04_0900_index_orders_total",
        'op.create_index("ix_orders_total", "orders", ["total"])',
        'op.drop_index("ix_orders_total", table_name="orders")',
    )
    wipes = (
        "e5wipe",
        "e4index",
        "2025_01_05_0900_reset_users",
        'op.execute("TRUNCATE users CASCADE")',
        "pass",
    )
    project = make_project(tmp_path, [*CLEAN, blocking_index, wipes])

    # Without table sizes a blocking index build is a warning; TRUNCATE ... CASCADE always fails.
    report = check_project(project, sandbox=sandbox)
    results = by_rev(report)
    assert results["e4index"].passed
    assert any("index-not-concurrent" in f for f in results["e4index"].lint.findings)
    wipe = results["e5wipe"]
    assert wipe.roundtrip == "passed"  # it runs; it is just not safe
    assert not wipe.passed and wipe.lint.errors >= 1
    assert any(p.startswith("lint:") and "truncate" in p for p in wipe.problems)

    # With production sizes, the blocking index build on a large table fails too.
    ctx = build_lint_context(rows=["orders=5M"], pg_version="15")
    sized = by_rev(check_project(project, sandbox=sandbox, lint_context=ctx))
    index = sized["e4index"]
    assert not index.passed
    assert any("index-not-concurrent" in p and "orders" in p for p in index.problems)
    assert all(sized[r].passed for r in ("a1users", "a2name", "a3orders"))


def test_specs_missing_warn_or_fail(tmp_path: Path, sandbox) -> None:
    project = make_project(tmp_path, CLEAN, specs=False)
    (project / "docs/migrations/2025_01_02_0900_add_name_to_users.md").write_text("# spec\n")
    report = check_project(project, sandbox=sandbox, roundtrip=False)
    assert report.passed
    results = by_rev(report)
    assert results["a2name"].spec
    assert not [w for w in results["a2name"].warnings if "spec" in w]
    assert results["a1users"].spec is None
    assert "no migration spec: expected docs/migrations/2025_01_01_0900_create_users.md" in (
        results["a1users"].warnings
    )
    strict = check_project(project, sandbox=sandbox, roundtrip=False, require_specs=True)
    assert not strict.passed
    assert {r.revision for r in strict.revisions if not r.passed} == {"a1users", "a3orders"}


def test_since_checks_only_what_comes_after(tmp_path: Path, sandbox) -> None:
    broken_old = (
        "a2name",
        "a1users",
        "2025_01_02_0900_add_name_to_users",
        'op.add_column("users", sa.Column("name", sa.Text, nullable=True))',
        "pass",
    )
    revisions = [CLEAN[0], broken_old, CLEAN[2], ADD_STATUS]
    project = make_project(tmp_path, revisions)
    whole = check_project(project, sandbox=sandbox)
    assert not whole.passed and not by_rev(whole)["a2name"].passed

    report = check_project(project, sandbox=sandbox, since="a3orders")
    assert report.passed, report.all_problems
    assert [r.revision for r in report.revisions] == ["a4status"]
    # a4status ran on top of the upgraded chain: it needs the orders table.
    assert report.revisions[0].roundtrip == "passed"
    # A unique prefix works like Alembic's own commands; an unknown revision is a usage error.
    assert [r.revision for r in check_project(project, since="a2", roundtrip=False).revisions] == [
        "a3orders",
        "a4status",
    ]
    with pytest.raises(UsageError, match="--since nope"):
        check_project(project, since="nope", roundtrip=False)


def test_since_reports_when_the_chain_before_it_does_not_upgrade(tmp_path: Path, sandbox) -> None:
    bad = (
        "a2name",
        "a1users",
        "2025_01_02_0900_add_name_to_users",
        'op.add_column("no_such_table", sa.Column("name", sa.Text))',
        'op.drop_column("no_such_table", "name")',
    )
    project = make_project(tmp_path, [CLEAN[0], bad, CLEAN[2]])
    report = check_project(project, sandbox=sandbox, since="a2name")
    assert not report.passed
    (only,) = report.revisions
    assert only.revision == "a3orders" and "a2name" in only.problems[0]


def test_the_realworld_project_passes(sandbox) -> None:
    report = check_project(ROOT / "tests/projects/realworld", sandbox=sandbox)
    assert len(report.revisions) == 7
    assert report.heads == ["0007blocked"]
    assert all(r.roundtrip in ("passed", "warning") for r in report.revisions), [
        r.problems for r in report.revisions
    ]
    assert not report.problems


def test_cli_exit_codes_and_json(tmp_path: Path, capsys, sandbox) -> None:
    url = sandbox.url
    clean = make_project(tmp_path / "clean", CLEAN)
    with pytest.raises(SystemExit) as exc:
        main(["check", str(clean), "--json", "--sandbox-url", url])
    assert exc.value.code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["passed"] is True and len(data["revisions"]) == 3

    broken = make_project(tmp_path / "broken", [*CLEAN[:2], (*CLEAN[2][:4], "pass")])
    with pytest.raises(SystemExit) as exc:
        main(["check", str(broken), "--sandbox-url", url])
    assert exc.value.code == 1
    printed = capsys.readouterr().out
    assert "FAILED a3orders" in printed and "downgrade does not restore" in printed

    with pytest.raises(SystemExit) as exc:
        main(["check", str(tmp_path / "nothing")])
    assert exc.value.code == 2
    assert "has no alembic.ini" in capsys.readouterr().err


def test_check_from_inside_the_project_directory(tmp_path: Path, sandbox) -> None:
    project = make_project(tmp_path, CLEAN)
    shutil.rmtree(project / "docs")
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "migagent"), "check", "--no-roundtrip"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "warning: no migration spec" in proc.stdout
