"""Benchmark: `migagent verify` of one revision against a 200-table schema vs. pytest-alembic.

    .venv/bin/python benchmarks/bench_verify.py [--tables 200] [--runs 5] [--rows 100]

An Alembic project is generated in a temporary folder: revision `a_base`
creates a 200-table schema (foreign keys, unique and check constraints,
indexes, jsonb, enums) and revision `b_change` is the migration under test
(add a column with a default, backfill it, index it, add and validate a CHECK;
the downgrade undoes all of it).

- migagent: `verify_revision(b_change, StartingPoint.history())` — scratch
  database creation, data generation (`--rows` per table), four snapshots,
  fingerprints, upgrade with lock/rewrite capture, downgrade, upgrade again.
  "cold" includes replaying the history into a template (once per history);
  "warm" is the median of `--runs` further runs.
- pytest-alembic: `test_up_down_consistency` over the same chain (every
  revision up from an empty scratch database, then down), driven through its
  Python API (`pytest_alembic.runner`), on a fresh scratch database per run.

Warm runs alternate (migagent, pytest-alembic, migagent, ...) so both meet
the same machine load. Prints the figures and the ratio (pytest-alembic
median / migagent median, and the median of per-pair ratios).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ENV_PY = """
from alembic import context

connectable = context.config.attributes.get("connection")


def run_migrations_online():
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=None)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
"""

CHANGE = """
from alembic import op
import sqlalchemy as sa

revision = "b_change"
down_revision = "a_base"


def upgrade():
    op.add_column(
        "t100",
        sa.Column("priority", sa.Integer(), nullable=False, server_default="0"),
    )
    op.execute("UPDATE t100 SET priority = amount::int % 5 WHERE amount IS NOT NULL")
    op.create_index("ix_t100_priority", "t100", ["priority"])
    op.execute("ALTER TABLE t100 ADD CONSTRAINT ck_t100_priority CHECK (priority >= 0) NOT VALID")
    op.execute("ALTER TABLE t100 VALIDATE CONSTRAINT ck_t100_priority")


def downgrade():
    op.drop_constraint("ck_t100_priority", "t100")
    op.drop_index("ix_t100_priority", "t100")
    op.drop_column("t100", "priority")
"""


def schema_sql(tables: int) -> str:
    parts = ["CREATE TYPE state AS ENUM ('new', 'active', 'closed');"]
    for i in range(tables):
        fk = f",\n    parent_id bigint REFERENCES t{i - 1:03d} (id)" if i % 2 and i > 0 else ""
        parts.append(
            textwrap.dedent(
                f"""
                CREATE TABLE t{i:03d} (
                    id bigserial PRIMARY KEY,
                    name text NOT NULL,
                    email varchar(200) NOT NULL UNIQUE,
                    status state NOT NULL DEFAULT 'new',
                    amount numeric(10,2) CHECK (amount >= 0),
                    created_at timestamptz NOT NULL DEFAULT now(),
                    payload jsonb{fk}
                );
                CREATE INDEX ix_t{i:03d}_created ON t{i:03d} (created_at);
                """
            )
        )
        if fk:
            parts.append(f"CREATE INDEX ix_t{i:03d}_parent ON t{i:03d} (parent_id);")
    return "\n".join(parts)


def base_revision(tables: int) -> str:
    drops = ", ".join(f"t{i:03d}" for i in reversed(range(tables)))
    return (
        "from alembic import op\n\n"
        'revision = "a_base"\ndown_revision = None\n\n'
        f"SCHEMA = {schema_sql(tables)!r}\n\n\n"
        "def upgrade():\n    op.execute(SCHEMA)\n\n\n"
        f'def downgrade():\n    op.execute("DROP TABLE {drops}")\n'
        '    op.execute("DROP TYPE state")\n'
    )


def make_project(root: Path, tables: int) -> Path:
    (root / "migrations" / "versions").mkdir(parents=True)
    (root / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    (root / "migrations" / "env.py").write_text(ENV_PY)
    (root / "migrations" / "script.py.mako").write_text("")
    (root / "migrations" / "versions" / "a_base.py").write_text(base_revision(tables))
    change = root / "migrations" / "versions" / "b_change.py"
    change.write_text(CHANGE)
    return change


def migagent_once(sandbox, source, rows: int) -> tuple[float, object]:
    from migagent.tools.verify import StartingPoint, verify_revision

    t0 = time.perf_counter()
    report = verify_revision(source, StartingPoint.history(), sandbox=sandbox, rows=rows)
    elapsed = time.perf_counter() - t0
    if not report.passed:
        sys.exit(f"migagent verify failed: {report.reasons}")
    return elapsed, report


def pytest_alembic_once(sandbox, config) -> float:
    import sqlalchemy as sa
    from pytest_alembic.runner import runner
    from pytest_alembic.tests.default import test_up_down_consistency
    from sqlalchemy.pool import NullPool

    t0 = time.perf_counter()
    with sandbox.scratch() as db:
        engine = sa.create_engine(db.sqlalchemy_url, poolclass=NullPool)
        try:
            with runner(config=config, engine=engine) as alembic_runner:
                test_up_down_consistency(alembic_runner)
        finally:
            engine.dispose()
    return time.perf_counter() - t0


def bench(sandbox, root: Path, change: Path, runs: int, rows: int) -> tuple[dict, dict]:
    """Cold runs first, then `runs` alternating pairs (so both see the same machine load)."""
    from pytest_alembic.config import Config

    from migagent.tools.verify import RevisionSource

    source = RevisionSource.from_path(change)
    config = Config(config_options={"script_location": str(root / "migrations")})
    ours_cold, _ = migagent_once(sandbox, source, rows)
    theirs_cold = pytest_alembic_once(sandbox, config)
    ours, theirs = [], []
    report = None
    for _ in range(runs):
        elapsed, report = migagent_once(sandbox, source, rows)
        ours.append(elapsed)
        theirs.append(pytest_alembic_once(sandbox, config))
    return (
        {
            "cold_s": ours_cold,
            "warm_s": ours,
            "steps_ms": {s.name: s.duration_ms for s in report.steps},
            "tables": len(report.data.tables),
            "rows": sum(t.rows for t in report.data.tables.values()),
            "statements": len(report.upgrade) + len(report.downgrade) + len(report.reupgrade),
        },
        {"cold_s": theirs_cold, "warm_s": theirs},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--sandbox-url", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from migagent.tools.sandbox import Sandbox

    sandbox = Sandbox.open(args.sandbox_url)
    with tempfile.TemporaryDirectory(prefix="migagent_bench_") as tmp:
        root = Path(tmp)
        change = make_project(root, args.tables)
        ours, theirs = bench(sandbox, root, change, args.runs, args.rows)
    ours_warm = statistics.median(ours["warm_s"])
    theirs_warm = statistics.median(theirs["warm_s"])
    result = {
        "server_version": sandbox.version,
        "tables": args.tables,
        "rows_per_table": args.rows,
        "migagent": {**ours, "median_s": ours_warm},
        "pytest_alembic": {**theirs, "median_s": theirs_warm},
        "ratio_pytest_alembic_over_migagent": theirs_warm / ours_warm,
        "ratio_per_pair_median": statistics.median(
            t / o for t, o in zip(theirs["warm_s"], ours["warm_s"], strict=True)
        ),
        "load_average": os.getloadavg(),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"server {sandbox.version}, {args.tables} tables, {args.rows} rows/table, {args.runs} runs"
    )
    print(
        f"migagent verify        cold {ours['cold_s']:.3f}s  warm median {ours_warm:.3f}s"
        f"  (min {min(ours['warm_s']):.3f}s, max {max(ours['warm_s']):.3f}s;"
        f" {ours['rows']} rows in {ours['tables']} tables, {ours['statements']} statements)"
    )
    print("  steps (ms): " + ", ".join(f"{k} {v:.0f}" for k, v in ours["steps_ms"].items()))
    print(
        f"pytest-alembic up/down cold {theirs['cold_s']:.3f}s  warm median {theirs_warm:.3f}s"
        f"  (min {min(theirs['warm_s']):.3f}s, max {max(theirs['warm_s']):.3f}s)"
    )
    print(
        f"ratio pytest-alembic / migagent: {theirs_warm / ours_warm:.2f}"
        f" (median of per-pair ratios {result['ratio_per_pair_median']:.2f});"
        f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
