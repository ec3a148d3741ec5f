"""Rules of `migagent lint` on SQL: each rule fires on its problem and not on the safe form."""

from __future__ import annotations

import pytest

from migagent.errors import UsageError
from migagent.tools.lint import ALL_RULE_IDS, LintContext, lint_sql

BIG = LintContext(
    rows={"orders": 50_000_000, "customers": 2_000_000},
    column_types={"orders": {"note": "character varying(50)", "total": "integer"}},
    lock_timeout_preset=True,
)
SMALL = LintContext(rows={"orders": 500, "customers": 100}, lock_timeout_preset=True)
UNKNOWN = LintContext(lock_timeout_preset=True)


def rules(sql: str, ctx: LintContext = BIG, in_transaction: bool = True) -> set[str]:
    return lint_sql(sql, ctx, in_transaction).rules()


def finding(sql: str, rule: str, ctx: LintContext = BIG, in_transaction: bool = True):
    found = [f for f in lint_sql(sql, ctx, in_transaction).findings if f.rule == rule]
    assert found, f"{rule} not reported for {sql!r}"
    return found[0]


# (rule, statement that triggers it, safe statement that does not)
CASES = [
    (
        "index-not-concurrent",
        "CREATE INDEX ix ON orders (customer_id)",
        "COMMIT; CREATE INDEX CONCURRENTLY ix ON orders (customer_id)",
    ),
    (
        "drop-index-not-concurrent",
        "DROP INDEX ix",
        "COMMIT; DROP INDEX CONCURRENTLY ix",
    ),
    (
        "reindex-not-concurrent",
        "REINDEX TABLE orders",
        "COMMIT; REINDEX TABLE CONCURRENTLY orders",
    ),
    (
        "concurrently-in-transaction",
        "CREATE INDEX CONCURRENTLY ix ON orders (customer_id)",
        "COMMIT; CREATE INDEX CONCURRENTLY ix ON orders (customer_id)",
    ),
    (
        "detach-partition-not-concurrent",
        "ALTER TABLE orders DETACH PARTITION orders_2020",
        "COMMIT; ALTER TABLE orders DETACH PARTITION orders_2020 CONCURRENTLY",
    ),
    (
        "add-column-volatile-default",
        "ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid()",
        "ALTER TABLE orders ADD COLUMN created_at timestamptz DEFAULT now()",
    ),
    (
        "add-column-not-null-without-default",
        "ALTER TABLE orders ADD COLUMN region text NOT NULL",
        "ALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT 'eu'",
    ),
    (
        "add-column-rewrite",
        "ALTER TABLE orders ADD COLUMN seq bigserial",
        "ALTER TABLE orders ADD COLUMN seq bigint",
    ),
    (
        "set-not-null-scan",
        "ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL",
        "ALTER TABLE orders ADD CONSTRAINT c CHECK (customer_id IS NOT NULL) NOT VALID; COMMIT;"
        " ALTER TABLE orders VALIDATE CONSTRAINT c;"
        " ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL",
    ),
    (
        "constraint-without-not-valid",
        "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (customer_id) REFERENCES customers (id)",
        "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (customer_id) REFERENCES customers (id)"
        " NOT VALID",
    ),
    (
        "validate-same-transaction",
        "ALTER TABLE orders ADD CONSTRAINT c CHECK (total > 0) NOT VALID;"
        " ALTER TABLE orders VALIDATE CONSTRAINT c",
        "ALTER TABLE orders ADD CONSTRAINT c CHECK (total > 0) NOT VALID; COMMIT;"
        " ALTER TABLE orders VALIDATE CONSTRAINT c",
    ),
    (
        "unique-constraint-builds-index",
        "ALTER TABLE orders ADD CONSTRAINT orders_number_key UNIQUE (number)",
        "ALTER TABLE orders ADD CONSTRAINT orders_number_key UNIQUE USING INDEX orders_number_idx",
    ),
    (
        "column-type-rewrite",
        "ALTER TABLE orders ALTER COLUMN total TYPE bigint",
        "ALTER TABLE orders ALTER COLUMN note TYPE text",
    ),
    (
        "rename-column",
        "ALTER TABLE orders RENAME COLUMN total TO amount",
        "ALTER TABLE orders RENAME CONSTRAINT c TO c2",
    ),
    ("rename-table", "ALTER TABLE orders RENAME TO purchases", "ALTER INDEX ix RENAME TO ix2"),
    ("drop-column", "ALTER TABLE orders DROP COLUMN note", "ALTER TABLE orders ADD COLUMN n int"),
    ("drop-table", "DROP TABLE orders", "DROP VIEW orders_view"),
    ("drop-database", "DROP DATABASE shop", "DROP SCHEMA archive"),
    ("truncate", "TRUNCATE orders", "DELETE FROM orders WHERE false"),
    ("enum-add-value", "ALTER TYPE status ADD VALUE 'x'", "CREATE TYPE s2 AS ENUM ('a')"),
    (
        "enum-rename-value",
        "ALTER TYPE status RENAME VALUE 'a' TO 'b'",
        "ALTER TYPE status ADD VALUE 'b'",
    ),
    (
        "prefer-jsonb",
        "ALTER TABLE orders ADD COLUMN data json",
        "ALTER TABLE orders ADD COLUMN data jsonb",
    ),
    (
        "foreign-key-without-index",
        "CREATE TABLE items (id bigint PRIMARY KEY, order_id bigint REFERENCES orders (id))",
        "CREATE TABLE items (id bigint PRIMARY KEY, order_id bigint REFERENCES orders (id));"
        " CREATE INDEX ix_items_order_id ON items (order_id)",
    ),
    ("vacuum-full", "COMMIT; VACUUM FULL orders", "COMMIT; VACUUM (ANALYZE) orders"),
    ("vacuum-in-transaction", "VACUUM orders", "COMMIT; VACUUM orders"),
    ("cluster", "CLUSTER orders USING orders_pkey", "ANALYZE orders"),
    ("set-logged", "ALTER TABLE orders SET UNLOGGED", "ALTER TABLE orders SET (fillfactor = 90)"),
    (
        "unbatched-dml",
        "UPDATE orders SET status = 'x'",
        "CREATE TABLE t2 (a int); UPDATE t2 SET a = 1",
    ),
    (
        "domain-constraint",
        "ALTER DOMAIN posint ADD CONSTRAINT p CHECK (VALUE > 0)",
        "ALTER DOMAIN posint ADD CONSTRAINT p CHECK (VALUE > 0) NOT VALID",
    ),
]


@pytest.mark.parametrize(("rule", "bad", "good"), CASES, ids=[c[0] for c in CASES])
def test_rule_positive_and_negative(rule, bad, good):
    assert rule in rules(bad)
    assert rule not in rules(good)


def test_every_rule_has_a_case():
    covered = {c[0] for c in CASES} | {
        "missing-lock-timeout",  # tests below
        "add-column-default-before-11",
        "data-migration-not-linted",  # test_lint_revision
    }
    assert covered == set(ALL_RULE_IDS)


def test_every_fix_is_python_and_alembic_shaped():
    for _rule, bad, _good in CASES:
        for f in lint_sql(bad, BIG).findings:
            assert f.fix, f.rule
            compile(f.fix, f.rule, "exec")
            if f.rule != "cluster":  # the honest fix is pg_repack, outside Alembic
                assert "op." in f.fix or "sa.Column" in f.fix, f.rule


def test_severity_scales_with_size():
    sql = "CREATE INDEX ix ON orders (customer_id)"
    big = finding(sql, "index-not-concurrent", BIG)
    small = finding(sql, "index-not-concurrent", SMALL)
    unknown = finding(sql, "index-not-concurrent", UNKNOWN)
    assert (big.severity, big.rows, big.size_basis) == ("error", 50_000_000, "--rows")
    assert (small.severity, small.rows) == ("info", 500)
    assert (unknown.severity, unknown.rows, unknown.size_basis) == ("warning", None, "unknown")
    assert "size unknown" in unknown.message
    assert big.lock == "SHARE" and big.blocks == ["writes"] and big.scans and not big.rewrites
    assert big.table == "orders"


def test_threshold_is_configurable():
    ctx = LintContext(rows={"orders": 500}, large_rows=100, lock_timeout_preset=True)
    assert finding("CREATE INDEX ix ON orders (a)", "index-not-concurrent", ctx).severity == "error"


def test_schema_qualified_size_lookup():
    ctx = LintContext(rows={"public.orders": 1_000_000}, lock_timeout_preset=True)
    assert finding("CREATE INDEX ix ON orders (a)", "index-not-concurrent", ctx).severity == "error"
    ctx = LintContext(rows={"orders": 1_000_000}, lock_timeout_preset=True)
    f = finding("CREATE INDEX ix ON public.orders (a)", "index-not-concurrent", ctx)
    assert f.severity == "error"


def test_tables_created_in_the_same_migration_are_not_flagged():
    sql = """
    CREATE TABLE orders (id bigint PRIMARY KEY, total int, note varchar(10));
    CREATE INDEX ix ON orders (total);
    ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();
    ALTER TABLE orders ALTER COLUMN total TYPE bigint;
    ALTER TABLE orders ALTER COLUMN total SET NOT NULL;
    ALTER TABLE orders ADD CONSTRAINT u UNIQUE (note);
    UPDATE orders SET total = 0;
    ALTER TABLE orders RENAME TO purchases;
    CREATE INDEX ix2 ON purchases (note);
    """
    assert lint_sql(sql, BIG).findings == []
    # the same statements on an existing table are flagged
    assert len(lint_sql(sql.split(";", 1)[1], BIG).rules()) >= 6


def test_add_column_not_null_depends_on_rows():
    sql = "ALTER TABLE orders ADD COLUMN region text NOT NULL"
    assert finding(sql, "add-column-not-null-without-default", SMALL).severity == "error"
    empty = LintContext(rows={"orders": 0}, lock_timeout_preset=True)
    assert finding(sql, "add-column-not-null-without-default", empty).severity == "info"
    assert finding(sql, "add-column-not-null-without-default", UNKNOWN).severity == "warning"


def test_pg_version_matters():
    sql = "ALTER TABLE orders ADD COLUMN region text DEFAULT 'eu'"
    old = LintContext(rows={"orders": 10_000_000}, pg_version=10, lock_timeout_preset=True)
    assert finding(sql, "add-column-default-before-11", old).severity == "error"
    assert "add-column-default-before-11" not in rules(sql, BIG)
    # ADD VALUE inside a transaction fails before 12
    assert finding("ALTER TYPE s ADD VALUE 'x'", "enum-add-value", old).severity == "error"
    assert finding("ALTER TYPE s ADD VALUE 'x'", "enum-add-value", BIG).severity == "info"
    # SET NOT NULL: PostgreSQL 18 suggests NOT NULL NOT VALID, 12-17 a CHECK
    stmt = "ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL"
    assert "NOT NULL customer_id NOT VALID" in finding(stmt, "set-not-null-scan", BIG).fix
    pg15 = LintContext(rows={"orders": 10_000_000}, pg_version=15, lock_timeout_preset=True)
    assert (
        "CHECK (customer_id IS NOT NULL) NOT VALID" in finding(stmt, "set-not-null-scan", pg15).fix
    )


def test_pg18_not_null_not_valid_path_is_clean():
    sql = (
        "ALTER TABLE orders ADD CONSTRAINT nn NOT NULL customer_id NOT VALID; COMMIT;"
        " ALTER TABLE orders VALIDATE CONSTRAINT nn;"
        " ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL"
    )
    assert lint_sql(sql, BIG).findings == []
    # without NOT VALID the NOT NULL constraint scans like SET NOT NULL
    assert "constraint-without-not-valid" in rules(
        "ALTER TABLE orders ADD CONSTRAINT nn NOT NULL customer_id"
    )


@pytest.mark.parametrize(
    ("old", "new", "tz", "rewrites"),
    [
        ("character varying(50)", "varchar(100)", None, False),
        ("character varying(50)", "text", None, False),
        ("character varying(50)", "varchar", None, False),
        ("character varying(100)", "varchar(50)", None, True),
        ("numeric(10,2)", "numeric(12,2)", None, False),
        ("numeric(10,2)", "numeric(12,3)", None, True),
        ("integer", "bigint", None, True),
        ("timestamp without time zone", "timestamptz", "UTC", False),
        ("timestamp without time zone", "timestamptz", "Europe/Paris", True),
        ("timestamp without time zone", "timestamptz", None, None),
        ("cidr", "inet", None, False),
    ],
)
def test_column_type_binary_coercible(old, new, tz, rewrites):
    ctx = LintContext(
        rows={"orders": 10_000_000},
        column_types={"orders": {"c": old}},
        timezone=tz,
        lock_timeout_preset=True,
    )
    report = lint_sql(f"ALTER TABLE orders ALTER COLUMN c TYPE {new}", ctx)
    found = [f for f in report.findings if f.rule == "column-type-rewrite"]
    if rewrites is False:
        assert found == []
    else:
        assert len(found) == 1
        assert found[0].severity == ("error" if rewrites else "warning")


def test_session_timezone_set_in_migration():
    ctx = LintContext(
        rows={"orders": 10_000_000},
        column_types={"orders": {"c": "timestamp"}},
        lock_timeout_preset=True,
    )
    sql = "SET TimeZone = 'UTC'; ALTER TABLE orders ALTER COLUMN c TYPE timestamptz"
    assert "column-type-rewrite" not in lint_sql(sql, ctx).rules()


def test_unknown_function_default_is_a_warning_not_an_error():
    f = finding(
        "ALTER TABLE orders ADD COLUMN x int DEFAULT my_func()", "add-column-volatile-default"
    )
    assert f.severity == "warning" and "my_func" in f.message


def test_missing_lock_timeout():
    ctx = LintContext(rows={"orders": 10})
    sql = "ALTER TABLE orders ADD COLUMN a int; ALTER TABLE orders ADD COLUMN b int"
    found = [f for f in lint_sql(sql, ctx).findings if f.rule == "missing-lock-timeout"]
    assert len(found) == 1 and found[0].lock == "ACCESS EXCLUSIVE"
    assert found[0].blocks == ["reads", "writes"]
    assert "missing-lock-timeout" not in lint_sql("SET lock_timeout = '2s'; " + sql, ctx).rules()
    assert (
        "missing-lock-timeout"
        not in lint_sql("SELECT set_config('lock_timeout', '2s', false); " + sql, ctx).rules()
    )
    # SET LOCAL ends with the transaction: the statement after COMMIT needs it again
    after = "SET LOCAL lock_timeout = '2s'; COMMIT; ALTER TABLE orders ADD COLUMN a int"
    assert "missing-lock-timeout" in lint_sql(after, ctx).rules()
    # non-blocking statements and new tables need no lock_timeout
    quiet = "COMMIT; CREATE INDEX CONCURRENTLY ix ON orders (a); CREATE TABLE t (a int)"
    assert "missing-lock-timeout" not in lint_sql(quiet, ctx).rules()


def test_foreign_key_index_knowledge():
    ctx = LintContext(
        rows={"items": 10},
        indexes={"items": [["order_id", "id"]]},
        catalog_known=True,
        lock_timeout_preset=True,
    )
    sql = "ALTER TABLE items ADD CONSTRAINT fk FOREIGN KEY (order_id) REFERENCES orders (id) NOT VALID"
    assert "foreign-key-without-index" not in lint_sql(sql, ctx).rules()
    sql2 = sql.replace("order_id", "customer_id")
    assert finding(sql2, "foreign-key-without-index", ctx).severity == "warning"
    # without --db, existing indexes are unknown: a note, not a warning
    assert finding(sql2, "foreign-key-without-index", UNKNOWN).severity == "info"


def test_suppression_comment_in_sql():
    sql = (
        "-- migagent: ignore[index-not-concurrent] built during the maintenance window\n"
        "CREATE INDEX ix ON orders (a);\n"
        "CREATE INDEX ix2 ON orders (b); -- migagent: ignore[index-not-concurrent, truncate] ok\n"
        "CREATE INDEX ix3 ON orders (c);\n"
    )
    report = lint_sql(sql, BIG)
    assert [f.line for f in report.findings if f.rule == "index-not-concurrent"] == [4]
    assert [(f.line, f.suppressed) for f in report.suppressed] == [
        (2, "built during the maintenance window"),
        (3, "ok"),
    ]
    assert report.errors == 1


def test_locations_and_statement_text():
    report = lint_sql("SELECT 1;\n\n  CREATE INDEX ix\n  ON orders (a);", BIG, file="m.sql")
    f = report.findings[0]
    assert (f.file, f.line, f.column) == ("m.sql", 3, 3)
    assert f.statement == "CREATE INDEX ix\n  ON orders (a)"


def test_unparseable_sql_reports_postgres_message_and_location():
    with pytest.raises(UsageError) as exc:
        lint_sql("SELECT 1;\nCREATE INDX ix ON t (a);", file="bad.sql")
    assert "bad.sql:2:8" in str(exc.value)
    assert 'syntax error at or near "INDX"' in str(exc.value)
