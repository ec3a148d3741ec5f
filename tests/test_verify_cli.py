"""`migagent verify`: starting points (schema file, target, Alembic history), exit codes, output."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from migagent.cli import main
from migagent.tools.sandbox import Sandbox
from migagent.tools.verify import RevisionSource, StartingPoint, verify_revision

# slow: about 6 s on 2 cores: verify through the CLI, with history replays
pytestmark = pytest.mark.slow

BEFORE = "CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL);\n"

GOOD = """
from alembic import op
import sqlalchemy as sa

revision = "b2"
down_revision = "a1"


def upgrade():
    op.add_column("items", sa.Column("price", sa.Numeric(8, 2)))


def downgrade():
    op.drop_column("items", "price")
"""

FORGETFUL = GOOD.replace(
    'op.add_column("items", sa.Column("price", sa.Numeric(8, 2)))',
    'op.add_column("items", sa.Column("price", sa.Numeric(8, 2)))\n'
    '    op.create_index("ix_items_name", "items", ["name"])',
)


def run_cli(sandbox: Sandbox, capsys, *args: str) -> tuple[int, str, str]:
    argv = ["verify", *args]
    if not sandbox.embedded:
        argv += ["--sandbox-url", sandbox.url]
    with pytest.raises(SystemExit) as info:
        main(argv)
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_cli_passes_with_schema_file(sandbox, tmp_path, capsys) -> None:
    revision = write(tmp_path / "b2.py", GOOD)
    schema = write(tmp_path / "before.sql", BEFORE)
    code, out, _ = run_cli(
        sandbox, capsys, str(revision), "--schema-file", str(schema), "--check", "SELECT 1"
    )
    assert code == 0, out
    assert out.startswith("PASSED") and "upgrade statements" in out
    assert "ACCESS EXCLUSIVE" in out and "column items.price added" in out


def test_cli_json_and_exit_1_on_failure(sandbox, tmp_path, capsys) -> None:
    revision = write(tmp_path / "b2.py", FORGETFUL)
    schema = write(tmp_path / "before.sql", BEFORE)
    code, out, _ = run_cli(
        sandbox, capsys, str(revision), "--schema-file", str(schema), "--json", "--rows", "10"
    )
    assert code == 1
    report = json.loads(out)
    assert report["passed"] is False
    assert report["failure"]["step"] == "downgrade"
    assert report["data"]["tables"]["public.items"]["rows"] == 10
    assert [c["name"] for c in report["downgrade_residue"]] == ["public.items.ix_items_name"]


def test_cli_exit_1_for_a_revision_that_does_not_import(sandbox, tmp_path, capsys) -> None:
    revision = write(tmp_path / "bad.py", "from alembic import op\n\nundefined_name\n")
    schema = write(tmp_path / "before.sql", BEFORE)
    code, out, _ = run_cli(sandbox, capsys, str(revision), "--schema-file", str(schema))
    assert code == 1
    assert "NameError" in out and "bad.py:3" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.py", "--schema-file", "before.sql"], "revision file missing.py does not exist"),
        (["b2.py"], "no starting schema"),
        (["b2.py", "--schema-file", "before.sql", "--db", "postgresql://x@h/d"], "Give only one"),
        (["b2.py", "--schema-file", "nope.sql"], "schema file nope.sql does not exist"),
        (["b2.py", "--db", "mysql://x@h/d"], "is not a PostgreSQL URL"),
    ],
)
def test_cli_usage_errors_exit_2(sandbox, tmp_path, capsys, monkeypatch, args, message) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "b2.py", GOOD)
    write(tmp_path / "before.sql", BEFORE)
    code, _, err = run_cli(sandbox, capsys, *args)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_starting_from_the_target_database(sandbox, make_db) -> None:
    target = make_db(BEFORE + "INSERT INTO items (name) SELECT 'x' FROM generate_series(1, 5);")
    report = verify_revision(
        RevisionSource.from_text(GOOD), StartingPoint.target(target.url), sandbox=sandbox
    )
    assert report.passed, report.reasons
    assert report.data.tables["public.items"].generated  # schema only: rows are generated
    with target.connect() as conn:  # the target is untouched
        assert conn.execute("SELECT count(*) FROM items").fetchone() == (5,)
        assert conn.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'items'"
        ).fetchone() == (2,)


def test_starting_from_a_template(sandbox) -> None:
    template = sandbox.template_from_sql(BEFORE)
    report = verify_revision(
        RevisionSource.from_text(GOOD), StartingPoint.template(template), sandbox=sandbox, rows=0
    )
    assert report.passed and report.data.tables["public.items"].rows == 0


# ------------------------------------------------------------ Alembic history
def alembic_project(root: Path) -> Path:
    write(root / "alembic.ini", "[alembic]\nscript_location = %(here)s/migrations\n")
    write(root / "migrations" / "env.py", "# env.py is never run by verify\n")
    write(
        root / "migrations" / "versions" / "a1_items.py",
        """
        from alembic import op
        import sqlalchemy as sa

        revision = "a1"
        down_revision = None


        def upgrade():
            op.create_table(
                "items",
                sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("name", sa.Text, nullable=False),
            )


        def downgrade():
            op.drop_table("items")
        """,
    )
    return write(root / "migrations" / "versions" / "b2_price.py", GOOD)


def test_history_is_replayed_to_down_revision(sandbox, tmp_path, capsys) -> None:
    revision = alembic_project(tmp_path)
    report = verify_revision(
        RevisionSource.from_path(revision), StartingPoint.history(), sandbox=sandbox
    )
    assert report.passed, report.reasons
    assert report.starting_point == "Alembic history"
    assert report.data.tables["public.items"].rows == 100
    # the CLI picks the history when the revision lives in a project
    code, out, _ = run_cli(sandbox, capsys, str(revision), "--rows", "5")
    assert code == 0, out
    assert "from Alembic history" in out


def test_history_reports_a_broken_earlier_revision(sandbox, tmp_path) -> None:
    revision = alembic_project(tmp_path)
    first = tmp_path / "migrations" / "versions" / "a1_items.py"
    first.write_text(first.read_text().replace("sa.Text,", "sa.Text, sa.ForeignKey('nope.id'),"))
    report = verify_revision(
        RevisionSource.from_path(revision), StartingPoint.history(), sandbox=sandbox
    )
    assert not report.passed
    assert report.failure.step == "data"
    assert "revision a1" in report.failure.message


def test_history_needs_a_project(sandbox, tmp_path) -> None:
    from migagent.errors import UsageError

    revision = write(tmp_path / "standalone.py", GOOD)
    with pytest.raises(UsageError, match="not inside an Alembic project"):
        verify_revision(
            RevisionSource.from_path(revision), StartingPoint.history(), sandbox=sandbox
        )


def test_revision_imports_its_project_modules(sandbox, tmp_path) -> None:
    revision = alembic_project(tmp_path)
    write(tmp_path / "myapp_constants.py", "PRICE_PRECISION = 8\n")
    revision.write_text(
        GOOD.replace("import sqlalchemy as sa", "import sqlalchemy as sa\nimport myapp_constants")
    )
    report = verify_revision(
        RevisionSource.from_path(revision), StartingPoint.history(), sandbox=sandbox
    )
    assert report.passed, report.reasons
    assert os.fspath(tmp_path) not in __import__("sys").path  # the path was restored
