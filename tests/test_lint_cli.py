"""`migagent lint` on the command line: exit codes, JSON, SARIF, --rows, --db."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from migagent.tools.lint import JSON_KEYS, context_from_db, lint_sql
from migagent.tools.lint.context import LintContext


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from migagent.cli import main; main()", "lint", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def files(tmp_path):
    bad = tmp_path / "bad.sql"
    bad.write_text("SET lock_timeout = '1s';\nCREATE INDEX ix ON orders (a);\n")
    good = tmp_path / "good.sql"
    good.write_text("SET lock_timeout = '1s';\nCREATE INDEX CONCURRENTLY ix ON orders (a);\n")
    return bad, good


@pytest.mark.slow  # starts the CLI a dozen times
def test_exit_codes(files, tmp_path):
    bad, good = files
    assert run(str(good), "--rows", "orders=50M").returncode == 0
    assert run(str(bad), "--rows", "orders=50M").returncode == 1
    assert run(str(bad), "--rows", "orders=500").returncode == 0  # small table: a note
    assert run(str(bad)).returncode == 0  # unknown size: a warning
    for args in (
        [str(tmp_path / "missing.sql")],
        [str(bad), "--rows", "orders"],
        [str(bad), "--pg-version", "x"],
        [str(bad), "--json", "--sarif"],
        [],
    ):
        r = run(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
    broken = tmp_path / "broken.sql"
    broken.write_text("SELECT 1;\nALTER TABLE orders ADD COLUM x int;\n")
    r = run(str(broken))
    assert r.returncode == 2
    assert "broken.sql:2:" in r.stderr and "syntax error" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_json_output(files):
    bad, _ = files
    r = run(str(bad), "--rows", "orders=50M", "--json")
    assert r.returncode == 1
    [f] = json.loads(r.stdout)
    assert tuple(f) == JSON_KEYS
    assert f["rule"] == "index-not-concurrent" and f["severity"] == "error"
    assert f["lock"] == "SHARE" and f["blocks"] == ["writes"] and f["rows"] == 50_000_000
    assert f["table"] == "orders" and f["line"] == 2
    assert "postgresql_concurrently=True" in f["fix"]


def test_terminal_output_lists_suppressions(tmp_path):
    p = tmp_path / "m.sql"
    p.write_text(
        "SET lock_timeout = '1s';\n"
        "CREATE INDEX ix ON orders (a); -- migagent: ignore[index-not-concurrent] tiny table\n"
    )
    r = run(str(p), "--rows", "orders=50M")
    assert r.returncode == 0
    assert "suppressed index-not-concurrent" in r.stdout and "tiny table" in r.stdout


def test_sarif_structure(files):
    bad, _ = files
    r = run(str(bad), "--rows", "orders=50M", "--sarif")
    assert r.returncode == 1
    sarif = json.loads(r.stdout)
    assert sarif["version"] == "2.1.0"
    [run_] = sarif["runs"]
    assert run_["tool"]["driver"]["rules"][0]["id"] == "index-not-concurrent"
    [res] = run_["results"]
    assert res["ruleId"] == "index-not-concurrent" and res["level"] == "error"
    region = res["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 2, "startColumn": 1}
    assert res["properties"]["lock"] == "SHARE"


def test_sarif_marks_suppressed_results():
    report = lint_sql(
        "CREATE INDEX ix ON orders (a); -- migagent: ignore[index-not-concurrent] fine",
        LintContext(lock_timeout_preset=True),
    )
    [res] = report.to_sarif()["runs"][0]["results"]
    assert res["suppressions"] == [{"kind": "inSource", "justification": "fine"}]
    assert res["level"] == "warning"


def test_revision_file_on_cli(tmp_path):
    rev = tmp_path / "0001_add.py"
    rev.write_text(
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        "def upgrade():\n"
        "    op.execute(\"SET lock_timeout = '2s'\")\n"
        '    op.add_column("orders", sa.Column("t", sa.Uuid(), server_default=sa.text("gen_random_uuid()")))\n'
    )
    r = run(str(rev), "--rows", "orders=2M", "--json")
    assert r.returncode == 1
    [f] = json.loads(r.stdout)
    assert f["rule"] == "add-column-volatile-default" and f["line"] == 6 and f["rewrites"]


def test_unreachable_db_is_exit_2(files):
    bad, _ = files
    r = run(str(bad), "--db", "postgresql://postgres@127.0.0.1:1/nope")
    assert r.returncode == 2
    assert "cannot read table sizes from --db" in r.stderr


@pytest.mark.slow  # builds a database
def test_context_from_db_reads_catalog_estimates(make_db, tmp_path):
    db = make_db(
        """
        CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, note varchar(40));
        INSERT INTO orders SELECT g, g % 10, 'x' FROM generate_series(1, 5000) g;
        CREATE INDEX orders_customer_idx ON orders (customer_id);
        ANALYZE orders;
        """
    )
    ctx = context_from_db(db.url, large_rows=1000)
    assert ctx.rows_for("orders") == 5000 and ctx.rows_for("public.orders") == 5000
    assert ctx.size_of("orders")[1] == "catalog estimate"
    assert ctx.large_rows == 1000 and ctx.pg_version >= 15
    assert ["customer_id"] in ctx.indexes_for("orders")
    assert ctx.column_type("orders", "note") == "character varying(40)"
    report = lint_sql(
        "SET lock_timeout = '1s';"
        " CREATE INDEX ix ON orders (note);"
        " ALTER TABLE orders ALTER COLUMN note TYPE varchar(80);"
        " ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (customer_id) REFERENCES orders (id) NOT VALID",
        ctx,
    )
    # the varchar growth is binary-coercible and customer_id is indexed
    assert [(f.rule, f.severity, f.rows) for f in report.findings] == [
        ("index-not-concurrent", "error", 5000)
    ]
    sql = tmp_path / "m.sql"
    sql.write_text("SET lock_timeout = '1s'; CREATE INDEX ix ON orders (note);\n")
    assert run(str(sql), "--db", db.url, "--large-rows", "1000").returncode == 1
    # --rows wins over the catalog estimate
    assert (
        run(str(sql), "--db", db.url, "--large-rows", "1000", "--rows", "orders=10").returncode == 0
    )


@pytest.mark.slow  # lints a 100 KB expression
def test_a_huge_expression_is_linted_or_refused_never_a_crash(tmp_path):
    """pglast recursed past the stack on a 100 KB expression: lint exited 139, no output."""
    import subprocess
    import sys
    from pathlib import Path

    migagent = str(Path(sys.executable).parent / "migagent")
    big = tmp_path / "big.sql"
    big.write_text("SELECT " + "+".join(["1"] * 50_000) + ";\n")
    linted = subprocess.run([migagent, "lint", str(big)], capture_output=True, text=True)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    huge = tmp_path / "huge.sql"
    huge.write_text("SELECT " + "+".join(["1"] * 300_000) + ";\n")
    refused = subprocess.run([migagent, "lint", str(huge)], capture_output=True, text=True)
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "parses safely" in refused.stderr
