"""Benchmark: lint 1,000 Alembic revision files; squawk on the same SQL in the same run.

    .venv/bin/python benchmarks/bench_lint.py [--files 1000]

Generates N revision files (a mix of index builds, column adds, constraints,
type changes, data updates and autocommit blocks), renders each one's SQL
offline once (so squawk gets exactly the SQL migagent lints), then times:

- migagent on the revision files (Alembic offline rendering + parse + rules),
- migagent on the rendered .sql files (parse + rules only),
- squawk on the same .sql files (one process for all files, as in CI).
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from migagent.tools.lint import LintContext, lint_file
from migagent.tools.lint.revision import revision_statements

OPS = [
    'op.create_index("ix_{t}_{c}", "{t}", ["{c}"])',
    'op.add_column("{t}", sa.Column("{c}_new", sa.Integer(), nullable=True))',
    'op.add_column("{t}", sa.Column("{c}_tok", sa.Uuid(), server_default=sa.text("gen_random_uuid()")))',
    'op.alter_column("{t}", "{c}", type_=sa.String(200), existing_type=sa.String(50))',
    'op.alter_column("{t}", "{c}", type_=sa.BigInteger(), existing_type=sa.Integer())',
    'op.alter_column("{t}", "{c}", nullable=False)',
    'op.create_foreign_key("fk_{t}_{c}", "{t}", "customers", ["{c}"], ["id"])',
    'op.create_unique_constraint("uq_{t}_{c}", "{t}", ["{c}"])',
    'op.drop_column("{t}", "{c}_old")',
    'op.execute("UPDATE {t} SET {c} = 0 WHERE {c} IS NULL")',
    'op.create_table("{t}_{c}_log", sa.Column("id", sa.BigInteger(), primary_key=True), sa.Column("data", sa.JSON()))',
    'with op.get_context().autocommit_block():\n        op.create_index("ix2_{t}_{c}", "{t}", ["{c}"], postgresql_concurrently=True)',
]


def make_revision(i: int, rnd: random.Random) -> str:
    lines = ["import sqlalchemy as sa", "from alembic import op", "", f"revision = 'r{i:04d}'"]
    lines += [f"down_revision = 'r{i - 1:04d}'" if i else "down_revision = None", ""]
    lines += ["", "def upgrade():", "    op.execute(\"SET lock_timeout = '5s'\")"]
    for _ in range(rnd.randint(3, 8)):
        t = rnd.choice(["orders", "customers", "events", "items"])
        c = rnd.choice(["a", "b", "status", "total", "note"])
        lines.append("    " + rnd.choice(OPS).format(t=t, c=c))
    lines += ["", "", "def downgrade():", "    pass", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=1000)
    args = ap.parse_args()
    rnd = random.Random(4)
    ctx = LintContext(rows={"orders": 50_000_000, "customers": 2_000_000, "events": 900})
    squawk = shutil.which("squawk") or str(Path(sys.executable).parent / "squawk")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        revs, sqls = [], []
        for i in range(args.files):
            rev = root / f"r{i:04d}.py"
            rev.write_text(make_revision(i, rnd))
            revs.append(rev)
            sql = root / f"r{i:04d}.sql"
            stmts = revision_statements(rev.read_text(), str(rev)).statements
            sql.write_text("".join(s.sql + ";\n" for s in stmts))
            sqls.append(sql)
        n_stmts = sum(len(p.read_text().splitlines()) for p in sqls)

        t0 = time.perf_counter()
        findings = sum(len(lint_file(p, ctx).findings) for p in revs)
        t_rev = time.perf_counter() - t0

        t0 = time.perf_counter()
        sql_findings = sum(len(lint_file(p, ctx, sql_in_transaction=True).findings) for p in sqls)
        t_sql = time.perf_counter() - t0

        t0 = time.perf_counter()
        proc = subprocess.run(
            [squawk, "--reporter", "json", *map(str, sqls)], capture_output=True, text=True
        )
        t_squawk = time.perf_counter() - t0
        import json

        squawk_findings = len(json.loads(proc.stdout or "[]"))

    n = args.files
    print(f"{n} revision files, {n_stmts} statements")
    print(
        f"migagent (revision .py, Alembic offline + lint): {t_rev:6.2f} s  {n / t_rev:8.0f} files/s"
        f"  ({findings} findings)"
    )
    print(
        f"migagent (same SQL as .sql):                     {t_sql:6.2f} s  {n / t_sql:8.0f} files/s"
        f"  ({sql_findings} findings)"
    )
    print(
        f"squawk   (same SQL as .sql, one process):        {t_squawk:6.2f} s  {n / t_squawk:8.0f} files/s"
        f"  ({squawk_findings} findings)"
    )


if __name__ == "__main__":
    main()
