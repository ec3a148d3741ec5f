"""`migagent check` against pytest-alembic's default tests, on one generated history.

    python benchmarks/bench_check.py [--revisions 100] [--runs 3] [--sandbox-url URL]

Generates an Alembic project with N revisions (create table, add column,
create index, in turn; each with a working downgrade) plus SQLAlchemy models
that match the final schema, then times, in the same run and on the same
PostgreSQL server:

- `migagent check DIR` (a subprocess, as CI runs it): one head, and for every
  revision upgrade / downgrade / upgrade in one scratch database with a schema
  snapshot compared after each step, lint of every revision, spec pairing;
- pytest-alembic's four default tests (`test_single_head_revision`,
  `test_upgrade`, `test_model_definitions_match_ddl`, `test_up_down_consistency`)
  run by pytest in a subprocess with `-p pytest_alembic --test-alembic`, each
  test on a fresh scratch database (its `alembic_engine` fixture), through the
  project's own env.py as pytest-alembic requires.

pytest-alembic's plugin does not auto-load under pytest 9.2 (this repository
turns it off with `-p no:pytest_alembic`), so it is loaded explicitly with
`-p pytest_alembic`. If even that fails, the four test functions are run
through pytest-alembic's Python API (`pytest_alembic.runner.runner` +
`pytest_alembic.tests.default`), and the output says so.

Note what each side checks: pytest-alembic's up/down test only asserts that
downgrades do not raise; `migagent check` also compares the schema after each
downgrade with the schema before the upgrade, lints, and pairs specs. Reported:
the median wall time of each over --runs, and their ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from migagent.tools.sandbox import Sandbox

BIN = Path(sys.executable).parent

ENV_PY = """\
from alembic import context
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import Connection

from models import metadata

config = context.config
connection = config.attributes.get("connection")


def run(conn) -> None:
    context.configure(connection=conn, target_metadata=metadata, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()


if isinstance(connection, Connection):  # pytest-alembic hands its connectable over
    run(connection)
elif connection is not None:
    with connection.connect() as conn:
        run(conn)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as conn:
        run(conn)
"""

CONFTEST = '''\
import os

import pytest
import sqlalchemy as sa

from migagent.tools.sandbox import Sandbox


@pytest.fixture
def alembic_engine():
    """A fresh scratch database for every test, on the same server migagent check uses."""
    box = Sandbox.open(os.environ["BENCH_SANDBOX_URL"])
    with box.scratch() as db:
        engine = sa.create_engine(db.sqlalchemy_url, poolclass=sa.pool.NullPool)
        try:
            yield engine
        finally:
            engine.dispose()
'''


def generate(root: Path, revisions: int) -> None:
    """An Alembic project of `revisions` revisions and models matching the result."""
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s/migrations\nprepend_sys_path = .\n"
        "sqlalchemy.url = postgresql+psycopg://nobody@localhost:1/none\n"
    )
    (root / "migrations" / "env.py").write_text(ENV_PY)
    (root / "tests").mkdir()
    (root / "tests" / "conftest.py").write_text(CONFTEST)  # where pytest-alembic looks
    (root / "docs" / "migrations").mkdir(parents=True)
    tables: dict[str, dict] = {}
    down = None
    for i in range(revisions):
        k = i // 3
        t = f"item_{k:03d}"
        step = i % 3
        rev = f"r{i:04d}"
        if step == 0:
            tables[t] = {"note": False, "index": False}
            up = f"""
                op.create_table(
                    "{t}",
                    sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
                    sa.Column("name", sa.Text(), nullable=False),
                    sa.Column("amount", sa.Numeric(12, 2), server_default="0", nullable=False),
                )"""
            undo = f'op.drop_table("{t}")'
            slug = f"create_{t}"
        elif step == 1:
            tables[t]["note"] = True
            up = f'op.add_column("{t}", sa.Column("note", sa.Text(), nullable=True))'
            undo = f'op.drop_column("{t}", "note")'
            slug = f"add_note_to_{t}"
        else:
            tables[t]["index"] = True
            up = f'op.create_index("ix_{t}_name", "{t}", ["name"])'
            undo = f'op.drop_index("ix_{t}_name", table_name="{t}")'
            slug = f"index_{t}_name"
        name = f"2025_{1 + i // 28:02d}_{1 + i % 28:02d}_0900_{slug}"
        (versions / f"{name}.py").write_text(
            f'"""{slug.replace("_", " ")}\n\nRevision ID: {rev}\n"""\n'
            "import sqlalchemy as sa\nfrom alembic import op\n\n"
            f"revision = {rev!r}\ndown_revision = {down!r}\n"
            "branch_labels = None\ndepends_on = None\n\n\n"
            f"def upgrade() -> None:\n{textwrap.indent(textwrap.dedent(up).strip(), '    ')}\n\n\n"
            f"def downgrade() -> None:\n    {undo}\n"
        )
        (root / "docs" / "migrations" / f"{name}.md").write_text(f"# {slug}\n")
        down = rev
    models = ["import sqlalchemy as sa", "", "metadata = sa.MetaData()", ""]
    for t, spec in tables.items():
        cols = [
            'sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True)',
            'sa.Column("name", sa.Text(), nullable=False)',
            'sa.Column("amount", sa.Numeric(12, 2), server_default="0", nullable=False)',
        ]
        if spec["note"]:
            cols.append('sa.Column("note", sa.Text(), nullable=True)')
        if spec["index"]:
            cols.append(f'sa.Index("ix_{t}_name", "name")')
        models.append(f'sa.Table("{t}", metadata, {", ".join(cols)})')
    (root / "models.py").write_text("\n".join(models) + "\n")


def time_migagent(root: Path, url: str) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(BIN / "migagent"), "check", str(root), "--sandbox-url", url],
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - t0, proc


def time_pytest_alembic(root: Path, url: str) -> tuple[float, subprocess.CompletedProcess]:
    env = {**os.environ, "BENCH_SANDBOX_URL": url, "PYTHONPATH": str(root)}
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "pytest_alembic",
            "--test-alembic",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "--rootdir",
            str(root),
            str(root / "tests"),
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - t0, proc


def pytest_alembic_api(root: Path, url: str) -> list[str]:
    """pytest-alembic's four default tests through its Python API, each on a fresh
    scratch database; the failures."""
    import sqlalchemy as sa
    from pytest_alembic.config import Config
    from pytest_alembic.runner import runner
    from pytest_alembic.tests import default

    sys.path.insert(0, str(root))
    box = Sandbox.open(url)
    failures = []
    for test in (
        default.test_single_head_revision,
        default.test_upgrade,
        default.test_model_definitions_match_ddl,
        default.test_up_down_consistency,
    ):
        with box.scratch() as db:
            engine = sa.create_engine(db.sqlalchemy_url, poolclass=sa.pool.NullPool)
            config = Config.from_raw_config({"file": str(root / "alembic.ini")})
            try:
                with runner(config=config, engine=engine) as ctx:
                    test(ctx)
            except Exception as exc:
                failures.append(f"{test.__name__}: {exc}")
            finally:
                engine.dispose()
    return failures


def time_pytest_alembic_api(root: Path, url: str) -> tuple[float, subprocess.CompletedProcess]:
    """The API fallback in a subprocess of its own, so both sides pay for start-up alike."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--pytest-alembic-api", str(root), "--sandbox-url", url],
        cwd=root,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - t0, proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--revisions", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sandbox-url", default=None)
    parser.add_argument("--pytest-alembic-api", metavar="PROJECT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pytest_alembic_api:
        failures = pytest_alembic_api(Path(args.pytest_alembic_api), args.sandbox_url)
        sys.exit("\n".join(failures) if failures else 0)

    box = Sandbox.open(args.sandbox_url)
    url = box.url
    print(f"server: PostgreSQL {box.version // 10000} ({'embedded' if box.embedded else url})")
    with tempfile.TemporaryDirectory(prefix="bench_check_") as tmp:
        root = Path(tmp)
        generate(root, args.revisions)
        print(f"history: {args.revisions} revisions in {root}")

        ours, theirs = [], []
        mode = "pytest -p pytest_alembic --test-alembic (subprocess)"
        for run in range(args.runs + 1):  # the first run of each warms caches and is dropped
            seconds, proc = time_migagent(root, url)
            if proc.returncode != 0:
                sys.exit(
                    f"migagent check failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
                )
            if run:
                ours.append(seconds)
            if mode.startswith("pytest -p"):
                seconds, proc = time_pytest_alembic(root, url)
                if proc.returncode != 0 or " 4 passed" not in proc.stdout:
                    print(
                        "pytest-alembic's plugin could not run under this pytest; falling back "
                        "to its Python API (pytest_alembic.runner + pytest_alembic.tests.default):"
                    )
                    print(textwrap.indent((proc.stdout + proc.stderr).strip()[-2000:], "    "))
                    mode = "pytest_alembic Python API (subprocess)"
            if not mode.startswith("pytest -p"):
                seconds, proc = time_pytest_alembic_api(root, url)
                if proc.returncode != 0:
                    sys.exit(f"pytest-alembic's default tests failed:\n{proc.stdout}{proc.stderr}")
            if run:
                theirs.append(seconds)
        a, b = statistics.median(ours), statistics.median(theirs)
        print(
            f"migagent check        : {a:6.2f} s  (median of {args.runs}: "
            f"{', '.join(f'{s:.2f}' for s in ours)})"
        )
        print(
            f"pytest-alembic default: {b:6.2f} s  (median of {args.runs}: "
            f"{', '.join(f'{s:.2f}' for s in theirs)}) via {mode}"
        )
        print(f"ratio (pytest-alembic / migagent check): {b / a:.2f}x")


if __name__ == "__main__":
    main()
