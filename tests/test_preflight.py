"""Target preflight on real servers: each data-dependent statement kind, on a target whose
rows allow it and on one whose rows do not; sampling; timeouts; nothing written."""

from __future__ import annotations

import textwrap

import psycopg
import pytest

from migagent.tools import pgurl
from migagent.tools.introspect import snapshot_url
from migagent.tools.preflight import PreflightReport, plan_checks, run_preflight

# slow: about 20-30 s on 2 cores: 43 preflights, each on a target database of its own
pytestmark = pytest.mark.slow

HEADER = (
    "import sqlalchemy as sa\nfrom alembic import op\n\nrevision = 'a1'\ndown_revision = None\n\n"
)


def revision(body: str) -> str:
    return (
        HEADER + "def upgrade():\n" + textwrap.indent(textwrap.dedent(body).strip(), "    ") + "\n"
    )


def preflight(url: str, src: str, **kw) -> PreflightReport:
    return run_preflight(src, url, snapshot_url(url), **kw)


def only(report: PreflightReport):
    assert len(report.results) == 1, report.summary()
    return report.results[0]


PRODUCTS = """
CREATE TABLE products (id int PRIMARY KEY, sku text, price numeric, code varchar(20));
INSERT INTO products SELECT g, 'sku-' || g, g, 'c' || g FROM generate_series(1, 100) g;
"""

SET_NOT_NULL = revision('op.alter_column("products", "sku", nullable=False)')


# --------------------------------------------------------------------------- NOT NULL


def test_not_null_clean_target_passes_with_a_fact(target_db):
    url = target_db(PRODUCTS)
    r = only(preflight(url, SET_NOT_NULL))
    assert (r.kind, r.status, r.violating_rows) == ("not_null", "ok", 0)
    assert r.fact is not None and r.fact.kind == "not_null" and r.fact.columns == ("sku",)
    assert "IS NULL" in (r.query or "")


def test_not_null_with_37_null_skus_fails_with_count_and_fix(target_db):
    url = target_db(PRODUCTS + "UPDATE products SET sku = NULL WHERE id <= 37;")
    report = preflight(url, SET_NOT_NULL)
    assert report.failed
    r = report.failures()[0]
    assert r.violating_rows == 37
    assert r.message == (
        "37 rows of public.products have sku NULL: backfill them first, e.g."
        " UPDATE products SET sku = ... WHERE sku IS NULL"
    )
    assert r.fact is None
    assert not report.facts()


def test_check_is_not_null_not_valid_then_validate_is_the_not_null_question(target_db):
    url = target_db(PRODUCTS + "UPDATE products SET sku = NULL WHERE id <= 2;")
    src = revision(
        """
        op.execute("ALTER TABLE products ADD CONSTRAINT sku_nn CHECK (sku IS NOT NULL) NOT VALID")
        with op.get_context().autocommit_block():
            op.execute("ALTER TABLE products VALIDATE CONSTRAINT sku_nn")
        op.alter_column("products", "sku", nullable=False)
        """
    )
    report = preflight(url, src)
    r = only(report)  # the SET NOT NULL asks the same question: asked once
    assert (r.kind, r.status, r.violating_rows) == ("not_null", "violations", 2)
    assert "VALIDATE CONSTRAINT" in r.sql


def test_backfill_earlier_in_the_revision_makes_nulls_unknown_not_a_failure(target_db):
    url = target_db(PRODUCTS + "UPDATE products SET sku = NULL WHERE id <= 3;")
    src = revision(
        """
        op.execute("UPDATE products SET sku = 'x' || id WHERE sku IS NULL")
        op.alter_column("products", "sku", nullable=False)
        """
    )
    report = preflight(url, src)
    r = only(report)
    assert r.status == "unknown" and not report.failed
    assert "UPDATE at statement" in r.message


def test_primary_key_checks_nulls_and_duplicates(target_db):
    url = target_db(
        "CREATE TABLE tags (name text, n int);"
        "INSERT INTO tags VALUES ('a', 1), ('a', 2), (NULL, 3), ('b', 4);"
    )
    report = preflight(url, revision('op.create_primary_key("tags_pkey", "tags", ["name"])'))
    kinds = {r.kind: r for r in report.results}
    assert kinds["not_null"].violating_rows == 1
    assert (kinds["unique"].violating_rows, kinds["unique"].groups) == (2, 1)
    assert report.failed


def test_add_not_null_column_without_default_on_a_table_with_rows(target_db):
    url = target_db(PRODUCTS)
    src = revision('op.add_column("products", sa.Column("weight", sa.Integer(), nullable=False))')
    r = only(preflight(url, src))
    assert (r.kind, r.status, r.violating_rows) == ("add_column_not_null", "violations", 100)
    ok = revision(
        'op.add_column("products", sa.Column("weight", sa.Integer(), nullable=False,'
        ' server_default="0"))'
    )
    assert preflight(url, ok).results == []


# --------------------------------------------------------------------------- UNIQUE

CUSTOMERS = """
CREATE TABLE customers (id int PRIMARY KEY, email text, deleted_at timestamptz);
INSERT INTO customers SELECT g, 'user' || g || '@x.com', NULL FROM generate_series(1, 50) g;
"""


def test_unique_constraint_clean_and_with_two_duplicate_groups(target_db):
    src = revision('op.create_unique_constraint("customers_email_key", "customers", ["email"])')
    clean = target_db(
        CUSTOMERS + "INSERT INTO customers VALUES (100, NULL, NULL), (101, NULL, NULL);"
    )
    r = only(preflight(clean, src))
    assert r.status == "ok"  # NULLs are distinct
    assert r.fact is not None and (r.fact.kind, r.fact.columns) == ("unique", ("email",))
    dup = target_db(
        CUSTOMERS + "UPDATE customers SET email = 'a@x.com' WHERE id IN (1, 2);"
        "UPDATE customers SET email = 'b@x.com' WHERE id IN (3, 4);"
    )
    report = preflight(dup, src)
    r = report.failures()[0]
    assert (r.violating_rows, r.groups) == (4, 2)
    assert r.message.startswith("4 rows of public.customers share email in 2 duplicate groups")
    assert "GROUP BY email HAVING count(*) > 1" in r.fix


def test_unique_nulls_not_distinct_counts_null_duplicates(target_db):
    url = target_db(
        CUSTOMERS + "INSERT INTO customers VALUES (100, NULL, NULL), (101, NULL, NULL);"
    )
    src = revision(
        'op.execute("ALTER TABLE customers ADD CONSTRAINT u UNIQUE NULLS NOT DISTINCT (email)")'
    )
    r = only(preflight(url, src))
    assert (r.status, r.violating_rows, r.groups) == ("violations", 2, 1)


def test_unique_index_on_lower_email_sees_case_only_duplicates(target_db):
    url = target_db(CUSTOMERS + "UPDATE customers SET email = 'USER1@x.com' WHERE id = 2;")
    plain = revision('op.create_index("ix_email", "customers", ["email"], unique=True)')
    assert only(preflight(url, plain)).status == "ok"
    lowered = revision(
        """
        with op.get_context().autocommit_block():
            op.create_index(
                "ix_email_lower", "customers", [sa.text("lower(email)")], unique=True,
                postgresql_concurrently=True,
            )
        """
    )
    r = only(preflight(url, lowered))
    assert (r.status, r.violating_rows, r.groups) == ("violations", 2, 1)
    assert r.example == "user1@x.com"
    assert "lower(email)" in r.message


def test_partial_unique_index_ignores_soft_deleted_duplicates(target_db):
    url = target_db(
        CUSTOMERS + "UPDATE customers SET email = 'user1@x.com', deleted_at = now() WHERE id = 2;"
    )
    src = revision(
        """
        with op.get_context().autocommit_block():
            op.create_index(
                "ix_live_email", "customers", ["email"], unique=True,
                postgresql_where=sa.text("deleted_at IS NULL"), postgresql_concurrently=True,
            )
        """
    )
    r = only(preflight(url, src))
    assert r.status == "ok"
    assert r.fact is not None and r.fact.predicate == "deleted_at IS NULL"
    # without the predicate the soft-deleted row is a duplicate
    full = revision('op.create_index("ix_email", "customers", ["email"], unique=True)')
    assert only(preflight(url, full)).violating_rows == 2


def test_unique_index_then_constraint_using_index_asks_once(target_db):
    url = target_db(CUSTOMERS + "UPDATE customers SET email = 'user1@x.com' WHERE id = 2;")
    src = revision(
        """
        with op.get_context().autocommit_block():
            op.create_index("ix_email", "customers", ["email"], unique=True,
                            postgresql_concurrently=True)
        op.execute("ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE USING INDEX ix_email")
        """
    )
    r = only(preflight(url, src))
    assert r.statement_index == 1 and r.kind == "unique" and r.violating_rows == 2


# --------------------------------------------------------------------------- FOREIGN KEY

ORDERS = (
    PRODUCTS
    + """
CREATE TABLE order_items (id int PRIMARY KEY, product_id int);
INSERT INTO order_items SELECT g, 1 + g % 100 FROM generate_series(1, 200) g;
INSERT INTO order_items VALUES (1000, NULL);
"""
)
ADD_FK = revision(
    'op.create_foreign_key("fk_items_product", "order_items", "products", ["product_id"], ["id"])'
)


def test_foreign_key_without_orphans_passes_with_references_fact(target_db):
    r = only(preflight(target_db(ORDERS), ADD_FK))
    assert r.status == "ok"
    assert r.fact is not None and r.fact.kind == "references"
    assert (r.fact.ref_table, r.fact.ref_columns) == ("public.products", ("id",))


def test_foreign_key_with_orphans_fails(target_db):
    url = target_db(
        ORDERS + "INSERT INTO order_items VALUES (2000, 999), (2001, 998), (2002, 999);"
    )
    r = only(preflight(url, ADD_FK))
    assert (r.status, r.violating_rows) == ("violations", 3)
    assert r.message.startswith(
        "3 rows of public.order_items have product_id with no row in public.products"
    )
    assert "NOT EXISTS" in r.fix


def test_foreign_key_not_valid_is_checked_at_validate(target_db):
    url = target_db(ORDERS + "INSERT INTO order_items VALUES (2000, 999);")
    not_valid_only = revision(
        'op.execute("ALTER TABLE order_items ADD CONSTRAINT fk FOREIGN KEY (product_id)'
        ' REFERENCES products (id) NOT VALID")'
    )
    assert preflight(url, not_valid_only).results == []
    src = not_valid_only + textwrap.indent(
        textwrap.dedent(
            """
            with op.get_context().autocommit_block():
                op.execute("ALTER TABLE order_items VALIDATE CONSTRAINT fk")
            """
        ),
        "    ",
    )
    r = only(preflight(url, src))
    assert (r.status, r.violating_rows, r.statement_index) == ("violations", 1, 2)
    assert "VALIDATE" in r.sql


def test_validate_of_a_not_valid_constraint_already_on_the_target(target_db):
    url = target_db(
        ORDERS + "INSERT INTO order_items VALUES (2000, 999);"
        "ALTER TABLE order_items ADD CONSTRAINT fk FOREIGN KEY (product_id)"
        " REFERENCES products (id) NOT VALID;"
    )
    src = revision('op.execute("ALTER TABLE order_items VALIDATE CONSTRAINT fk")')
    assert only(preflight(url, src)).violating_rows == 1


# --------------------------------------------------------------------------- CHECK


def test_check_constraint_clean_and_violating(target_db):
    src = revision('op.create_check_constraint("price_positive", "products", "price >= 0")')
    r = only(preflight(target_db(PRODUCTS), src))
    assert r.status == "ok" and r.fact is not None and r.fact.expression == "price >= 0"
    url = target_db(PRODUCTS + "UPDATE products SET price = -1 WHERE id IN (5, 6);")
    r = only(preflight(url, src))
    assert (r.status, r.violating_rows, r.example) == ("violations", 2, "-1")
    assert r.message.startswith("2 rows of public.products violate CHECK (price >= 0)")


def test_check_not_valid_alone_checks_nothing(target_db):
    url = target_db(PRODUCTS + "UPDATE products SET price = -1 WHERE id = 5;")
    src = revision(
        'op.execute("ALTER TABLE products ADD CONSTRAINT p CHECK (price >= 0) NOT VALID")'
    )
    assert preflight(url, src).results == []


# --------------------------------------------------------------------------- TYPE


def test_text_to_integer_with_one_abc_value(target_db):
    sql = (
        "CREATE TABLE stock (id int PRIMARY KEY, qty text);"
        "INSERT INTO stock SELECT g, (g * 3)::text FROM generate_series(1, 50) g;"
    )
    src = revision(
        'op.alter_column("stock", "qty", type_=sa.Integer(), postgresql_using="qty::integer")'
    )
    r = only(preflight(target_db(sql), src))
    assert r.status == "ok" and r.fact is not None and r.fact.kind == "castable"
    bad = target_db(
        sql
        + "UPDATE stock SET qty = 'abc' WHERE id = 7; UPDATE stock SET qty = ' 12 ' WHERE id = 8;"
    )
    r = only(preflight(bad, src))
    assert (r.status, r.violating_rows, r.example) == ("violations", 1, "abc")
    assert r.check.method in ("pg_input_is_valid", "pattern")
    assert "does not convert to integer" in r.message


def test_integer_overflow_and_a_using_expression(target_db):
    sql = (
        "CREATE TABLE stock (id int PRIMARY KEY, qty text);"
        "INSERT INTO stock VALUES (1, '5'), (2, '99999999999'), (3, ''), (4, NULL);"
    )
    url = target_db(sql)
    plain = revision(
        'op.alter_column("stock", "qty", type_=sa.Integer(), postgresql_using="qty::integer")'
    )
    r = only(preflight(url, plain))
    assert r.violating_rows == 2  # overflow and the empty string
    using = revision(
        'op.alter_column("stock", "qty", type_=sa.Integer(),'
        " postgresql_using=\"NULLIF(qty, '')::bigint / 1000\")"
    )
    r = only(preflight(url, using))
    assert r.check.method == "trial" and r.status == "ok"
    failing = revision(
        'op.alter_column("stock", "qty", type_=sa.Integer(),'
        " postgresql_using=\"NULLIF(qty, '')::integer\")"
    )
    r = only(preflight(url, failing))
    assert (r.status, r.violating_rows) == ("violations", None)
    assert "out of range" in r.message


def test_varchar_narrowing_counts_long_values(target_db):
    url = target_db(PRODUCTS + "UPDATE products SET code = 'much-too-long' WHERE id IN (1, 2, 3);")
    src = revision(
        'op.alter_column("products", "code", type_=sa.String(5), existing_type=sa.String(20))'
    )
    r = only(preflight(url, src))
    assert (r.status, r.violating_rows, r.check.method) == ("violations", 3, "length")
    assert "longer than 5 characters" in r.message
    ok = target_db(PRODUCTS)  # codes are at most 4 characters
    r = only(preflight(ok, src))
    assert (
        r.status == "ok"
        and r.fact is not None
        and (r.fact.kind, r.fact.max_length) == ("max_length", 5)
    )
    widen = revision('op.alter_column("products", "code", type_=sa.String(50))')
    assert preflight(url, widen).results == []  # cannot fail: nothing to ask


def test_text_to_enum_with_an_unknown_label(target_db):
    sql = (
        "CREATE TABLE orders (id int PRIMARY KEY, status text);"
        "INSERT INTO orders SELECT g, CASE WHEN g % 2 = 0 THEN 'paid' ELSE 'pending' END"
        " FROM generate_series(1, 20) g;"
    )
    src = revision(
        """
        op.execute("CREATE TYPE order_status AS ENUM ('pending', 'paid')")
        op.alter_column("orders", "status", type_=sa.Enum("pending", "paid", name="order_status",
                        create_type=False), postgresql_using="status::order_status")
        """
    )
    r = only(preflight(target_db(sql), src))
    assert r.status == "ok" and r.fact is not None and r.fact.kind == "check"
    bad = target_db(sql + "UPDATE orders SET status = 'shipped' WHERE id = 3;")
    r = only(preflight(bad, src))
    assert (r.status, r.violating_rows, r.example) == ("violations", 1, "shipped")
    assert "not among the labels of order_status" in r.message


# --------------------------------------------------------------------------- DROP


def test_drop_column_and_table_are_information(target_db):
    url = target_db(PRODUCTS + "UPDATE products SET code = NULL WHERE id <= 40;")
    src = revision(
        """
        op.drop_column("products", "code")
        op.execute("CREATE TABLE scratch (id int)")
        op.drop_table("scratch")
        op.drop_table("products")
        """
    )
    report = preflight(url, src)
    assert not report.failed
    col, table = report.results
    assert (col.kind, col.status, col.violating_rows) == ("drop_column", "info", 60)
    assert col.message == "dropping public.products.code loses 60 non-null values"
    assert (table.kind, table.violating_rows) == ("drop_table", 100)


# --------------------------------------------------------------------------- planning


def test_new_tables_and_columns_have_nothing_to_check(target_db):
    url = target_db(PRODUCTS)
    src = revision(
        """
        op.create_table("labels", sa.Column("id", sa.Integer()), sa.Column("name", sa.Text()))
        op.alter_column("labels", "name", nullable=False)
        op.add_column("products", sa.Column("label_id", sa.Integer()))
        op.create_foreign_key("fk_label", "products", "labels", ["label_id"], ["id"])
        """
    )
    snap = snapshot_url(url)
    checks = plan_checks(src, snap)
    assert [c.kind for c in checks] == ["not_null", "foreign_key"]
    assert all(c.skip for c in checks)
    report = run_preflight(src, url, snap)
    assert [r.status for r in report.results] == ["info", "info"]
    assert "created earlier in this revision" in report.results[0].message


def test_renamed_column_is_asked_about_under_its_target_name(target_db):
    url = target_db(PRODUCTS + "UPDATE products SET sku = NULL WHERE id = 1;")
    src = revision(
        """
        op.alter_column("products", "sku", new_column_name="stock_code")
        op.alter_column("products", "stock_code", nullable=False)
        """
    )
    r = only(preflight(url, src))
    assert r.columns == ("sku",) and r.violating_rows == 1


# --------------------------------------------------------------------------- running


def test_large_tables_are_sampled_and_say_so(target_db):
    url = target_db(
        "CREATE TABLE events (id int PRIMARY KEY, kind text);"
        "INSERT INTO events SELECT g, CASE WHEN g % 10 = 0 THEN NULL ELSE 'k' END"
        " FROM generate_series(1, 200000) g;"
    )
    src = revision('op.alter_column("events", "kind", nullable=False)')
    r = only(preflight(url, src, sample_above_rows=1_000, sample_rows=5_000))
    assert r.sampled and r.status == "violations"
    assert r.sample_rows and 1_000 < r.sample_rows < 50_000
    assert r.estimated_violations and 10_000 < r.estimated_violations < 30_000
    assert "TABLESAMPLE SYSTEM" in (r.query or "")
    assert r.message.startswith("in a sample of ")
    exact = only(preflight(url, src))
    assert (exact.sampled, exact.violating_rows) == (False, 20_000)


def test_sampled_unique_finds_real_duplicates_and_estimates(target_db):
    url = target_db(
        "CREATE TABLE people (id int PRIMARY KEY, email text);"
        "INSERT INTO people SELECT g, 'p' || (CASE WHEN g % 100 = 0 THEN g + 1 ELSE g END)"
        " FROM generate_series(1, 200000) g;"
    )
    src = revision('op.create_unique_constraint("people_email_key", "people", ["email"])')
    r = only(preflight(url, src, sample_above_rows=1_000, sample_rows=20_000))
    assert r.sampled and r.status == "violations"
    assert r.violating_rows and r.violating_rows % 2 == 0  # the found groups are real pairs
    assert r.estimated_violations and 2_000 < r.estimated_violations < 6_000
    exact = only(preflight(url, src))
    assert (exact.violating_rows, exact.groups) == (3_998, 1_999)


def test_a_query_blocked_past_the_timeout_is_unknown(target_db):
    url = target_db(PRODUCTS + "UPDATE products SET sku = NULL WHERE id = 1;")
    snap = snapshot_url(url)
    with pgurl.connect(url) as locker:
        locker.execute("LOCK TABLE products IN ACCESS EXCLUSIVE MODE")
        report = run_preflight(SET_NOT_NULL, url, snap, timeout_ms=300)
        locker.rollback()
    r = only(report)
    assert r.status == "unknown" and not report.failed
    assert "timed out after 300 ms" in r.message
    assert r.fact is None


def test_the_target_is_unchanged(target_db):
    url = target_db(ORDERS + "INSERT INTO order_items VALUES (2000, 999);")

    def state() -> tuple:
        with pgurl.connect(url) as conn:
            rows = conn.execute(
                "SELECT md5(string_agg(p::text, ',' ORDER BY id)) FROM products p"
            ).fetchone()
            items = conn.execute(
                "SELECT md5(string_agg(i::text, ',' ORDER BY id)) FROM order_items i"
            ).fetchone()
            cons = conn.execute("SELECT count(*) FROM pg_constraint").fetchone()
            idx = conn.execute("SELECT count(*) FROM pg_index").fetchone()
        return rows, items, cons, idx

    before = state()
    snap_before = snapshot_url(url)
    src = revision(
        """
        op.alter_column("products", "sku", nullable=False)
        op.create_unique_constraint("u", "products", ["sku"])
        op.create_foreign_key("fk", "order_items", "products", ["product_id"], ["id"])
        op.create_check_constraint("c", "products", "price >= 0")
        op.alter_column("products", "code", type_=sa.String(5))
        op.drop_column("products", "price")
        """
    )
    report = run_preflight(src, url, snap_before)
    assert len(report.results) == 6 and report.failed
    assert state() == before
    assert snapshot_url(url).model_dump(exclude={"tables"}) == snap_before.model_dump(
        exclude={"tables"}
    )
    assert {k: t.constraints for k, t in snapshot_url(url).tables.items()} == {
        k: t.constraints for k, t in snap_before.tables.items()
    }


def test_readonly_connection_refuses_writes(target_db):
    """The guarantee the preflight relies on: its connection cannot write."""
    from migagent.tools.target import connect_readonly

    url = target_db(PRODUCTS)
    with connect_readonly(url) as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute("UPDATE products SET sku = NULL")


def test_report_summary_and_facts(target_db):
    url = target_db(ORDERS)
    src = revision(
        """
        op.alter_column("products", "sku", nullable=False)
        op.create_foreign_key("fk", "order_items", "products", ["product_id"], ["id"])
        op.drop_column("products", "code")
        """
    )
    report = preflight(url, src)
    assert not report.failed
    facts = report.facts()
    assert sorted(f.kind for f in facts.facts) == ["not_null", "references"]
    assert report.summary().splitlines()[0] == "target preflight: 1 info, 2 ok"
    assert all(r.duration_ms > 0 for r in report.results)


def test_numeric_pattern_is_confirmed_by_casting_and_dates_are_tried(target_db):
    url = target_db(
        "CREATE TABLE m (id int PRIMARY KEY, amount text, day text);"
        "INSERT INTO m VALUES (1, '1.5', '2024-02-28'), (2, ' -2e3 ', '2024-03-01'),"
        " (3, 'NaN', 'tomorrow'), (4, NULL, NULL);"
    )
    src = revision(
        """
        op.alter_column("m", "amount", type_=sa.Numeric(), postgresql_using="amount::numeric")
        op.alter_column("m", "day", type_=sa.Date(), postgresql_using="day::date")
        """
    )
    amount, day = preflight(url, src).results
    assert amount.status == "ok" and day.status == "ok"
    bad = target_db(
        "CREATE TABLE m (id int PRIMARY KEY, amount text, day text);"
        "INSERT INTO m VALUES (1, '12,5', '2024-02-30'), (2, '7', '2024-01-01');"
    )
    amount, day = preflight(bad, src).results
    assert (amount.status, amount.violating_rows, amount.example) == ("violations", 1, "12,5")
    assert day.status == "violations"
    if day.check.method == "trial":  # PG 15: the conversion itself ran and stopped at the error
        assert day.violating_rows is None and "2024-02-30" in day.message
    else:
        assert day.violating_rows == 1


def test_foreign_key_to_a_table_the_revision_creates(target_db):
    url = target_db(ORDERS)
    src = revision(
        """
        op.create_table("catalog", sa.Column("id", sa.Integer(), primary_key=True))
        op.create_foreign_key("fk_cat", "order_items", "catalog", ["product_id"], ["id"])
        """
    )
    r = only(preflight(url, src))
    assert (r.status, r.violating_rows) == ("violations", 200)  # the NULL key passes
    assert "public.catalog (created empty by this revision)" in r.message
    filled = revision(
        """
        op.create_table("catalog", sa.Column("id", sa.Integer(), primary_key=True))
        op.execute("INSERT INTO catalog SELECT id FROM products")
        op.create_foreign_key("fk_cat", "order_items", "catalog", ["product_id"], ["id"])
        """
    )
    r = only(preflight(url, filled))
    assert r.status == "unknown" and "INSERT at statement 1" in r.message


def test_explicit_cast_to_shorter_varchar_truncates_as_information(target_db):
    url = target_db(PRODUCTS + "UPDATE products SET code = 'much-too-long' WHERE id = 1;")
    src = revision(
        'op.alter_column("products", "code", type_=sa.String(5), postgresql_using="code::varchar(5)")'
    )
    report = preflight(url, src)
    r = only(report)
    assert (r.status, r.violating_rows) == ("info", 1) and not report.failed
    assert "would be truncated to 5 characters" in r.message


def test_trial_conversion_on_a_sample(target_db):
    url = target_db(
        "CREATE TABLE t (id int PRIMARY KEY, v text);"
        "INSERT INTO t SELECT g, CASE WHEN g % 50 = 0 THEN 'x' ELSE g::text END"
        " FROM generate_series(1, 100000) g;"
    )
    src = revision(
        'op.alter_column("t", "v", type_=sa.Integer(), postgresql_using="trim(v)::integer")'
    )
    r = only(preflight(url, src, sample_above_rows=1_000, sample_rows=2_000))
    assert r.sampled and r.check.method == "trial" and r.status == "violations"
    assert '"x"' in r.message and "in a sample" in r.message


def test_statements_after_a_data_migration_are_noted(target_db):
    url = target_db(PRODUCTS)
    src = revision(
        """
        op.alter_column("products", "sku", nullable=False)
        ids = op.get_bind().execute(sa.text("SELECT id FROM products")).fetchall()
        op.alter_column("products", "price", nullable=False)
        """
    )
    report = preflight(url, src)
    assert [r.columns for r in report.results] == [("sku",)]
    assert report.notes and "were not checked" in report.notes[0]


def test_percent_signs_reach_the_target_as_written(target_db):
    """Alembic's offline rendering escapes % as %%; the checks must run the SQL as written."""
    url = target_db(PRODUCTS + "UPDATE products SET code = 'x%y' WHERE id = 1;")
    src = revision(
        """
        op.create_check_constraint("even", "products", "id % 2 = 0")
        op.create_check_constraint("no_pct", "products", "code NOT LIKE '%\\\\%%'")
        """
    )
    even, no_pct = preflight(url, src).results
    assert (even.status, even.violating_rows) == ("violations", 50)
    assert even.message.startswith("50 rows of public.products violate CHECK (id % 2 = 0)")
    assert (no_pct.status, no_pct.violating_rows) == ("violations", 1)


def test_planning_is_pure_and_picks_the_conversion_method_by_server_version():
    from migagent.tools.introspect.model import Column, SchemaSnapshot, Table

    def snap(version: int) -> SchemaSnapshot:
        table = Table(
            schema_name="public",
            name="stock",
            row_estimate=10,
            columns=[
                Column(name="qty", type="text"),
                Column(name="code", type="character varying(20)"),
            ],
        )
        return SchemaSnapshot(server_version=version, tables={"public.stock": table})

    src = revision(
        """
        op.alter_column("stock", "qty", type_=sa.Integer(), postgresql_using="qty::integer")
        op.alter_column("stock", "qty", type_=sa.Date(), postgresql_using="qty::date")
        op.alter_column("stock", "code", type_=sa.String(5))
        op.alter_column("stock", "code", type_=sa.Text())
        op.execute("ALTER TABLE IF EXISTS gone ALTER COLUMN x SET NOT NULL")
        """
    )
    assert [c.method for c in plan_checks(src, snap(150004))] == ["pattern", "trial", "length"]
    assert [c.method for c in plan_checks(src, snap(170002))] == [
        "pg_input_is_valid",
        "pg_input_is_valid",
        "length",
    ]


def test_text_to_a_new_enum_through_a_using_expression(target_db):
    url = target_db(
        "CREATE TABLE orders (id int PRIMARY KEY, status text);"
        "INSERT INTO orders VALUES (1, 'PAID'), (2, 'Pending'), (3, 'Shipped'), (4, NULL);"
    )
    src = revision(
        """
        op.execute("CREATE TYPE order_status AS ENUM ('pending', 'paid')")
        op.execute("ALTER TABLE orders ALTER COLUMN status TYPE order_status"
                   " USING lower(status)::order_status")
        """
    )
    r = only(preflight(url, src))
    assert (r.check.method, r.check.using) == ("enum_labels", "lower(status)")
    assert (r.status, r.violating_rows, r.example) == ("violations", 1, "shipped")
