"""Gaps found by running squawk's own rule tests through `migagent lint` with every
table large (issue 14): each case here failed before its rule was fixed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from migagent.tools.lint import LintContext, lint_sql

SQUAWK = shutil.which("squawk") or str(Path(__file__).resolve().parents[1] / ".venv/bin/squawk")

BIG = LintContext(rows={"t": 50_000_000, "orders": 50_000_000}, lock_timeout_preset=True)


def findings(sql: str, rule: str, ctx: LintContext = BIG, in_transaction: bool = True):
    return [f for f in lint_sql(sql, ctx, in_transaction).findings if f.rule == rule]


def squawk_rules(sql: str, tmp_path: Path) -> set[str]:
    path = tmp_path / "snippet.sql"
    path.write_text(sql, encoding="utf-8")
    proc = subprocess.run([SQUAWK, "--reporter", "json", str(path)], capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr
    return {item["rule_name"] for item in json.loads(proc.stdout)}


# ------------------------------------------------------------------ DROP DATABASE


@pytest.mark.parametrize(
    "sql", ["DROP DATABASE foo", "DROP DATABASE IF EXISTS foo", "DROP DATABASE foo WITH (FORCE)"]
)
def test_drop_database_is_an_error(sql):
    found = findings(sql, "drop-database", in_transaction=False)
    assert found, sql
    assert found[0].severity == "error"
    assert "foo" in found[0].message


def test_drop_database_matches_squawk(tmp_path):
    assert "ban-drop-database" in squawk_rules("DROP DATABASE foo;\n", tmp_path)
    assert findings("DROP DATABASE foo", "drop-database", in_transaction=False)


def test_drop_table_is_not_drop_database():
    assert not findings("DROP TABLE t", "drop-database")


# ------------------------------------------- functions resolved by name and arguments

VOLATILE = "add-column-volatile-default"


def test_now_with_an_argument_is_not_the_builtin_now(tmp_path):
    sql = "ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now(123)"
    assert "adding-field-with-default" in squawk_rules(sql + ";\n", tmp_path)
    found = findings(sql, VOLATILE)
    assert found, "now(123) is no built-in: its volatility is unknown"
    assert found[0].severity == "warning"
    assert "now" in found[0].message and "not known" in found[0].message


@pytest.mark.parametrize(
    "default",
    [
        "now()",
        "pg_catalog.now()",
        "CURRENT_TIMESTAMP",
        "lower('X')",
        "length('abc')",
        "round(1.5)",
        "round(1.55, 1)",
        "coalesce(NULL, 1)",
        "concat('a', 'b', 'c')",
        "date_trunc('day', now())",
        "to_char(now(), 'YYYY')",
        "md5('x')",
    ],
)
def test_builtin_signatures_stay_stable(default):
    assert not findings(f"ALTER TABLE t ADD COLUMN c text DEFAULT {default}", VOLATILE), default


@pytest.mark.parametrize(
    "default",
    [
        "now(123)",
        "now('x', 'y')",
        "lower()",
        "lower('a', 'b')",
        "lower(42)",  # no lower(integer): a user-defined overload, if any
        "md5(1, 2)",
        "length()",
        "round(1, 2, 3)",
        "myschema.now()",  # a schema other than pg_catalog: not the built-in
        "date_trunc('day')",
    ],
)
def test_unknown_signatures_have_unknown_volatility(default):
    found = findings(f"ALTER TABLE t ADD COLUMN c text DEFAULT {default}", VOLATILE)
    assert found, default
    assert found[0].severity == "warning", default


@pytest.mark.parametrize("default", ["random()", "gen_random_uuid()", "clock_timestamp()"])
def test_volatile_builtins_are_still_errors(default):
    found = findings(f"ALTER TABLE t ADD COLUMN c text DEFAULT {default}", VOLATILE)
    assert found and found[0].severity == "error", default


def test_volatile_name_with_a_foreign_signature_is_unknown_not_volatile():
    found = findings("ALTER TABLE t ADD COLUMN c text DEFAULT random(1, 2, 3)", VOLATILE)
    assert found and found[0].severity == "warning"


# ------------------------------------------------------------------ VACUUM (FULL FALSE)


@pytest.mark.parametrize(
    "sql",
    [
        "VACUUM (FULL FALSE) t",
        "VACUUM (FULL false, ANALYZE) t",
        "VACUUM (FULL off) t",
        "VACUUM (FULL 0) t",
        "VACUUM (FULL ON, FULL OFF) t",
        "VACUUM (ANALYZE) t",
    ],
)
def test_vacuum_full_false_is_no_vacuum_full(tmp_path, sql):
    assert "prefer-repack" not in squawk_rules(sql + ";\n", tmp_path)
    assert not findings(sql, "vacuum-full", in_transaction=False), sql


@pytest.mark.parametrize(
    "sql",
    [
        "VACUUM FULL t",
        "VACUUM (FULL) t",
        "VACUUM (FULL TRUE) t",
        "VACUUM (FULL on, VERBOSE) t",
        "VACUUM (FULL 1) t",
        "VACUUM (FULL TRUE, FULL FALSE, FULL ON) t",  # the last one wins
    ],
)
def test_vacuum_full_true_is_still_reported(sql):
    found = findings(sql, "vacuum-full", in_transaction=False)
    assert found and found[0].severity == "error", sql


# ------------------------------------------------ SET NOT NULL after a validated CHECK

NN = "set-not-null-scan"


def test_set_not_null_after_a_visible_validated_check_is_clean():
    sql = """
    ALTER TABLE orders ADD CONSTRAINT orders_customer_id_nn CHECK (customer_id IS NOT NULL) NOT VALID;
    COMMIT;
    ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_nn;
    ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;
    """
    assert not findings(sql, NN)


def test_set_not_null_after_a_validate_whose_check_is_not_visible_is_a_warning():
    """squawk's own negative case: the CHECK was added by an earlier revision, so
    offline nothing says what it checks; PostgreSQL 12+ skips the scan if it proves it."""
    sql = """
    ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_nn;
    ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;
    """
    found = findings(sql, NN)
    assert found and found[0].severity == "warning"
    assert "orders_customer_id_nn" in found[0].message


def test_squawk_agrees_the_validated_case_is_no_scan(tmp_path):
    sql = (
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_nn;\n"
        "ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;\n"
    )
    assert "adding-not-nullable-field" not in squawk_rules(sql, tmp_path)


def test_set_not_null_with_a_visible_check_on_another_column_is_an_error():
    sql = """
    ALTER TABLE orders ADD CONSTRAINT orders_x_nn CHECK (x IS NOT NULL) NOT VALID;
    COMMIT;
    ALTER TABLE orders VALIDATE CONSTRAINT orders_x_nn;
    ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;
    """
    found = findings(sql, NN)
    assert found and found[0].severity == "error"


def test_set_not_null_on_another_table_than_the_validated_one_is_an_error():
    sql = """
    ALTER TABLE t VALIDATE CONSTRAINT t_c_nn;
    ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;
    """
    found = findings(sql, NN)
    assert found and found[0].severity == "error"


def test_set_not_null_without_any_check_is_an_error():
    found = findings("ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL", NN)
    assert found and found[0].severity == "error"


def test_before_12_a_validated_check_does_not_help():
    ctx = LintContext(rows={"orders": 50_000_000}, lock_timeout_preset=True, pg_version=11)
    sql = """
    ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_nn;
    ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;
    """
    found = findings(sql, NN, ctx)
    assert found and found[0].severity == "error"


def test_a_dropped_unseen_check_no_longer_helps():
    sql = """
    ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_nn;
    ALTER TABLE orders DROP CONSTRAINT orders_customer_id_nn;
    ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;
    """
    found = findings(sql, NN)
    assert found and found[0].severity == "error"


REVISION = """
from alembic import op
import sqlalchemy as sa

revision = "abc123def456"
down_revision = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    {check}
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_customer_id_nn")
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.alter_column("orders", "customer_id", nullable=False)
    op.drop_constraint("ck_orders_customer_id_nn", "orders", type_="check")


def downgrade():
    op.alter_column("orders", "customer_id", nullable=True)
"""

CHECK = (
    'op.create_check_constraint("ck_orders_customer_id_nn", "orders", '
    '"customer_id IS NOT NULL", postgresql_not_valid=True)'
)


def test_revision_with_its_check_visible_has_no_scan_finding():
    from migagent.tools.lint import lint_revision_source

    report = lint_revision_source(REVISION.replace("{check}", CHECK), BIG, file="r.py")
    assert not [f for f in report.findings if f.rule == NN], report.findings


def test_revision_whose_check_came_earlier_gets_a_warning():
    from migagent.tools.lint import lint_revision_source

    report = lint_revision_source(REVISION.replace("{check}", "pass"), BIG, file="r.py")
    found = [f for f in report.findings if f.rule == NN]
    assert found and found[0].severity == "warning"
    assert not report.errors


def test_type_bigint_with_the_current_type_unknown_is_an_error():
    """To bigint rewrites from every type but bigint (fixed with the lowering half)."""
    ctx = LintContext(rows={"t": 20_000_000}, lock_timeout_preset=True)
    found = findings("ALTER TABLE t ALTER COLUMN c TYPE bigint", "column-type-rewrite", ctx)
    assert found and found[0].severity == "error"
