"""`migagent lint` on Alembic revisions: offline rendering, transactions, lines, suppressions."""

from __future__ import annotations

import textwrap

import pytest

from migagent.errors import UsageError
from migagent.tools.lint import LintContext, lint_file, lint_revision_source, lint_sql

BIG = LintContext(rows={"orders": 50_000_000}, lock_timeout_preset=True)

HEADER = (
    "import sqlalchemy as sa\nfrom alembic import op\n\nrevision = 'a1'\ndown_revision = None\n\n"
)


def revision(body: str) -> str:
    return (
        HEADER + "def upgrade():\n" + textwrap.indent(textwrap.dedent(body).strip(), "    ") + "\n"
    )


def test_ops_are_rendered_and_located_on_their_call_line():
    src = revision(
        """
        op.add_column("orders", sa.Column("token", sa.Uuid(), server_default=sa.text("gen_random_uuid()")))
        op.create_index(
            "ix_orders_token", "orders", ["token"]
        )
        """
    )
    report = lint_revision_source(src, BIG, file="rev.py")
    by_rule = {f.rule: f for f in report.findings}
    assert by_rule["add-column-volatile-default"].line == 8
    assert by_rule["index-not-concurrent"].line == 9
    assert (
        by_rule["index-not-concurrent"].statement
        == "CREATE INDEX ix_orders_token ON orders (token)"
    )
    assert by_rule["index-not-concurrent"].file == "rev.py"


def test_autocommit_block_is_outside_the_transaction():
    good = revision(
        """
        with op.get_context().autocommit_block():
            op.create_index("ix", "orders", ["a"], postgresql_concurrently=True)
        """
    )
    assert lint_revision_source(good, BIG).findings == []
    bad = revision('op.create_index("ix", "orders", ["a"], postgresql_concurrently=True)')
    f = lint_revision_source(bad, BIG).findings
    assert [x.rule for x in f] == ["concurrently-in-transaction"]
    assert f[0].severity == "error"
    assert "autocommit_block" in f[0].fix


def test_validate_after_autocommit_commit_is_not_same_transaction():
    src = revision(
        """
        op.execute("ALTER TABLE orders ADD CONSTRAINT c CHECK (total > 0) NOT VALID")
        with op.get_context().autocommit_block():
            op.execute("ALTER TABLE orders VALIDATE CONSTRAINT c")
        op.execute("ALTER TABLE orders ADD CONSTRAINT d CHECK (total < 9) NOT VALID")
        op.execute("ALTER TABLE orders VALIDATE CONSTRAINT d")
        """
    )
    found = [f for f in lint_revision_source(src, BIG).findings]
    assert [(f.rule, f.line) for f in found] == [("validate-same-transaction", 12)]


def test_suppression_comment_on_the_op_call_or_above_it():
    src = revision(
        """
        op.create_index("ix1", "orders", ["a"])  # migagent: ignore[index-not-concurrent] tiny in prod
        # migagent: ignore[index-not-concurrent] done in a maintenance window
        op.create_index(
            "ix2", "orders", ["b"],
        )
        op.create_index("ix3", "orders", ["c"])
        """
    )
    report = lint_revision_source(src, BIG)
    assert [f.line for f in report.findings] == [13]
    assert [(f.line, f.suppressed) for f in report.suppressed] == [
        (8, "tiny in prod"),
        (10, "done in a maintenance window"),
    ]


def test_existing_type_from_alter_column_decides_rewrite():
    grow = revision(
        'op.alter_column("orders", "note", type_=sa.String(200), existing_type=sa.String(50))'
    )
    assert lint_revision_source(grow, BIG).findings == []
    change = revision(
        'op.alter_column("orders", "total", type_=sa.BigInteger(), existing_type=sa.Integer())'
    )
    [f] = lint_revision_source(change, BIG).findings
    assert f.rule == "column-type-rewrite" and f.severity == "error" and f.rewrites


def test_data_migration_with_results_is_reported_not_crashed():
    src = revision(
        """
        op.add_column("orders", sa.Column("n", sa.Integer()))
        conn = op.get_bind()
        ids = conn.execute(sa.text("SELECT id FROM orders")).fetchall()
        for i in ids:
            conn.execute(sa.text("UPDATE orders SET n = 1 WHERE id = :i"), {"i": i})
        """
    )
    report = lint_revision_source(src, BIG)
    info = [f for f in report.findings if f.rule == "data-migration-not-linted"]
    assert len(info) == 1 and info[0].severity == "info" and info[0].line == 10


def test_get_bind_statements_without_results_are_linted():
    src = revision('op.get_bind().execute(sa.text("DELETE FROM orders"))')
    assert "unbatched-dml" in lint_revision_source(src, BIG).rules()


def test_created_table_in_revision_is_not_flagged():
    src = revision(
        """
        op.create_table("items", sa.Column("id", sa.BigInteger, primary_key=True), sa.Column("a", sa.Integer))
        op.create_index("ix_items_a", "items", ["a"])
        op.add_column("items", sa.Column("b", sa.Integer, nullable=False))
        """
    )
    assert lint_revision_source(src, BIG).findings == []


def test_bad_revisions_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="no upgrade"):
        lint_revision_source("x = 1\n")
    with pytest.raises(UsageError, match="not valid Python"):
        lint_revision_source("def upgrade(:\n")
    with pytest.raises(UsageError, match="cannot load revision"):
        lint_revision_source("import no_such_module_xyz\ndef upgrade():\n    pass\n")
    with pytest.raises(UsageError, match="cannot parse"):
        lint_revision_source(revision('op.execute("CREATE INDX ix ON t (a)")'))
    with pytest.raises(UsageError, match="no such file"):
        lint_file(tmp_path / "missing.py")
    (tmp_path / "m.txt").write_text("x")
    with pytest.raises(UsageError, match=r"not a \.py revision"):
        lint_file(tmp_path / "m.txt")


FIXABLE = [
    "CREATE INDEX ix ON orders (customer_id)",
    "CREATE UNIQUE INDEX ix ON orders USING btree (lower(email)) WHERE deleted_at IS NULL",
    "DROP INDEX ix",
    "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (customer_id) REFERENCES customers (id)",
    "ALTER TABLE orders ADD CONSTRAINT c CHECK (total > 0)",
    "ALTER TABLE orders ADD CONSTRAINT orders_number_key UNIQUE (number)",
    "ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL",
    "REINDEX TABLE orders",
]


@pytest.mark.parametrize("pg", [15, 18])
@pytest.mark.parametrize("sql", FIXABLE)
def test_fixes_are_alembic_code_that_lints_clean(sql, pg):
    ctx = LintContext(rows={"orders": 50_000_000}, pg_version=pg, lock_timeout_preset=True)
    [bad] = [f for f in lint_sql(sql, ctx).findings if f.rule != "foreign-key-without-index"]
    fixed = lint_revision_source(revision(bad.fix), ctx)
    assert bad.rule not in fixed.rules()
    assert fixed.errors == 0, [f.rule for f in fixed.findings]


def test_lint_file_sql_defaults_to_autocommit_semantics(tmp_path):
    path = tmp_path / "m.sql"
    path.write_text("CREATE INDEX CONCURRENTLY ix ON orders (a);\n")
    assert lint_file(path, BIG).findings == []
    wrapped = lint_file(path, BIG, sql_in_transaction=True)
    assert wrapped.rules() == {"concurrently-in-transaction"}
