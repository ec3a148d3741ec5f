"""Facts about the target's rows shape the generated rows (real servers, never mocks).

Each proof below fails on plain generated rows for a reason the target's real
rows contradict, and passes once the fact is applied; the target profile reads
such facts from a real target database.
"""

from __future__ import annotations

import textwrap

import pytest

from migagent.tools import datagen, target
from migagent.tools.datafacts import DataFact, DataFacts
from migagent.tools.introspect import snapshot
from migagent.tools.sandbox import Sandbox
from migagent.tools.target_profile import profile_facts
from migagent.tools.verify import RevisionSource, StartingPoint, verify_revision
from migagent.tools.verify.report import VerificationReport
from migagent.tools.verify.verify import data_template

# slow: about 18 s on 2 cores: each fact is proven by a verify run
pytestmark = pytest.mark.slow

SHOP = """
CREATE TYPE product_kind AS ENUM ('book', 'game');
CREATE TABLE products (
    id serial PRIMARY KEY,
    sku text,
    code varchar(255),
    qty int,
    status text,
    kind text,
    email text
);
CREATE TABLE order_items (id serial PRIMARY KEY, product_id int NOT NULL, quantity int);
"""


def fact(kind: str, table: str = "public.products", **kw) -> DataFact:
    return DataFact(kind=kind, table=table, **kw)  # type: ignore[arg-type]


def rev(up: str, down: str) -> RevisionSource:
    def body(sql_lines: str) -> str:
        lines = [ln.strip() for ln in textwrap.dedent(sql_lines).strip().splitlines()]
        return "\n".join(f"    op.execute({ln!r})" for ln in lines if ln)

    text = (
        "from alembic import op\n\nrevision = 'r2'\ndown_revision = 'r1'\n\n"
        f"def upgrade():\n{body(up)}\n\ndef downgrade():\n{body(down)}\n"
    )
    return RevisionSource.from_text(text, name="r2_facts.py")


def prove(sandbox: Sandbox, source: RevisionSource, facts: DataFacts | None) -> VerificationReport:
    template = sandbox.template_from_sql(SHOP)
    return verify_revision(
        source, StartingPoint.template(template), sandbox=sandbox, data_facts=facts
    )


def upgrade_error(report: VerificationReport) -> str:
    assert report.failure is not None
    return report.failure.message


def test_not_null_fact_makes_set_not_null_provable(sandbox: Sandbox, make_db) -> None:
    facts = DataFacts.of([fact("not_null", columns=("sku",))])
    db = make_db(SHOP)
    with db.connect(autocommit=True) as conn:
        result = datagen.generate(conn, snapshot(conn), rows=100, facts=facts)
        nulls = conn.execute("SELECT count(*) FILTER (WHERE sku IS NULL) FROM products").fetchone()
    assert result.rows["public.products"] == 100 and nulls == (0,)
    assert result.facts == ["public.products.sku has no NULLs"]

    source = rev(
        "ALTER TABLE products ALTER COLUMN sku SET NOT NULL",
        "ALTER TABLE products ALTER COLUMN sku DROP NOT NULL",
    )
    without = prove(sandbox, source, None)
    assert not without.passed and "null" in upgrade_error(without).lower()
    with_fact = prove(sandbox, source, facts)
    assert with_fact.passed, with_fact.failure
    assert with_fact.data.facts == ["public.products.sku has no NULLs"]
    assert without.data.facts == []


def test_references_fact_makes_validate_provable(sandbox: Sandbox) -> None:
    source = rev(
        """
        ALTER TABLE order_items ADD CONSTRAINT order_items_product_fk FOREIGN KEY (product_id) REFERENCES products (id) NOT VALID
        ALTER TABLE order_items VALIDATE CONSTRAINT order_items_product_fk
        """,
        "ALTER TABLE order_items DROP CONSTRAINT order_items_product_fk",
    )
    facts = DataFacts.of(
        [
            fact(
                "references",
                "public.order_items",
                columns=("product_id",),
                ref_table="public.products",
                ref_columns=("id",),
            )
        ]
    )
    without = prove(sandbox, source, None)
    assert not without.passed and "foreign key" in upgrade_error(without)
    with_fact = prove(sandbox, source, facts)
    assert with_fact.passed, with_fact.failure


def test_unique_fact_over_an_expression(sandbox: Sandbox) -> None:
    source = rev(
        "CREATE UNIQUE INDEX products_email_key ON products (lower(email))",
        "DROP INDEX products_email_key",
    )
    facts = DataFacts.of([fact("unique", expressions=("lower(email)",))])
    report = prove(sandbox, source, facts)
    assert report.passed, report.failure
    # a key the generator repeats (the first 5 characters of 'user12@example.com')
    narrow = rev(
        "CREATE UNIQUE INDEX products_email5_key ON products (lower(left(email, 5)))",
        "DROP INDEX products_email5_key",
    )
    assert not prove(sandbox, narrow, None).passed
    facts = DataFacts.of([fact("unique", expressions=("lower(left(email, 5))",))])
    report = prove(sandbox, narrow, facts)
    assert report.passed, report.failure
    assert report.data.tables["public.products"].rows < 100  # the duplicates were deleted


def test_unique_fact_respects_its_predicate(make_db) -> None:
    db = make_db("CREATE TABLE accounts (id serial PRIMARY KEY, email text, active boolean);")
    facts = DataFacts.of(
        [
            fact(
                "unique",
                "public.accounts",
                expressions=("left(email, 5)",),
                predicate="active",
            )
        ]
    )
    with db.connect(autocommit=True) as conn:
        datagen.generate(conn, snapshot(conn), rows=200, facts=facts)
        active, active_keys, inactive, inactive_keys = conn.execute(
            "SELECT count(*) FILTER (WHERE active), count(DISTINCT left(email, 5)) FILTER"
            " (WHERE active), count(*) FILTER (WHERE NOT active), count(DISTINCT left(email, 5))"
            " FILTER (WHERE NOT active) FROM accounts"
        ).fetchone()
    assert active == active_keys  # no duplicates where the predicate holds
    assert inactive > inactive_keys  # elsewhere the rows are left as generated


def test_castable_fact_makes_type_changes_provable(sandbox: Sandbox) -> None:
    to_int = rev(
        "ALTER TABLE products ALTER COLUMN sku TYPE integer USING sku::integer",
        "ALTER TABLE products ALTER COLUMN sku TYPE text",
    )
    assert not prove(sandbox, to_int, None).passed
    facts = DataFacts.of([fact("castable", columns=("sku",), type_name="INTEGER")])
    report = prove(sandbox, to_int, facts)
    assert report.passed, report.failure

    # an enum of the starting schema: its labels
    to_kind = rev(
        "ALTER TABLE products ALTER COLUMN kind TYPE product_kind USING kind::product_kind",
        "ALTER TABLE products ALTER COLUMN kind TYPE text",
    )
    assert not prove(sandbox, to_kind, None).passed
    facts = DataFacts.of([fact("castable", columns=("kind",), type_name="product_kind")])
    report = prove(sandbox, to_kind, facts)
    assert report.passed, report.failure


def test_enum_the_revision_creates_via_a_check_fact(sandbox: Sandbox) -> None:
    """The preflight says "every status is one of the labels" as a CHECK, as it writes it."""
    to_enum = rev(
        """
        CREATE TYPE product_status AS ENUM ('draft', 'live', 'retired')
        ALTER TABLE products ALTER COLUMN status TYPE product_status USING status::product_status
        """,
        """
        ALTER TABLE products ALTER COLUMN status TYPE text
        DROP TYPE product_status
        """,
    )
    assert not prove(sandbox, to_enum, None).passed
    labels = "(status)::text IN ('draft', 'live', 'retired')"
    report = prove(sandbox, to_enum, DataFacts.of([fact("check", expression=labels)]))
    assert report.passed, report.failure
    assert report.data.tables["public.products"].rows == 100  # shaped, not filtered away


def test_check_fact_makes_add_check_provable(sandbox: Sandbox) -> None:
    source = rev(
        "ALTER TABLE order_items ADD CONSTRAINT quantity_range CHECK (quantity > 0 AND quantity <= 10)",
        "ALTER TABLE order_items DROP CONSTRAINT quantity_range",
    )
    assert not prove(sandbox, source, None).passed
    facts = DataFacts.of(
        [fact("check", "public.order_items", expression="quantity > 0 AND quantity <= 10")]
    )
    report = prove(sandbox, source, facts)
    assert report.passed, report.failure
    assert report.data.tables["public.order_items"].rows == 100  # shaped, not filtered away


def test_max_length_fact_makes_narrowing_provable(sandbox: Sandbox) -> None:
    source = rev(
        "ALTER TABLE products ALTER COLUMN code TYPE varchar(5)",
        "ALTER TABLE products ALTER COLUMN code TYPE varchar(255)",
    )
    assert not prove(sandbox, source, None).passed
    facts = DataFacts.of([fact("max_length", columns=("code",), max_length=5)])
    report = prove(sandbox, source, facts)
    assert report.passed, report.failure


def test_max_length_keeps_to_the_values_a_check_allows(make_db) -> None:
    db = make_db(
        "CREATE TABLE tickets (id serial PRIMARY KEY,"
        " status text NOT NULL CHECK (status IN ('new', 'old', 'archived')));"
    )
    facts = DataFacts.of([fact("max_length", "public.tickets", columns=("status",), max_length=3)])
    with db.connect(autocommit=True) as conn:
        result = datagen.generate(conn, snapshot(conn), rows=100, facts=facts)
        statuses = conn.execute("SELECT array_agg(DISTINCT status) FROM tickets").fetchone()[0]
    assert result.rows == {"public.tickets": 100} and sorted(statuses) == ["new", "old"]


def test_facts_about_unknown_columns_are_not_applied(make_db) -> None:
    facts = DataFacts.of(
        [
            fact("not_null", columns=("added_later",)),
            fact("not_null", "public.nope", columns=("x",)),
        ]
    )
    db = make_db(SHOP)
    with db.connect(autocommit=True) as conn:
        snap = snapshot(conn)
        assert datagen.applicable_facts(snap, facts) == []
        assert datagen.apply_facts(snap, facts) == snap
        assert datagen.generate(conn, snap, rows=10, facts=facts).facts == []


def test_apply_facts_is_pure(make_db) -> None:
    db = make_db(SHOP)
    with db.connect(autocommit=True) as conn:
        snap = snapshot(conn)
    before = snap.model_dump()
    facts = DataFacts.of(
        [fact("not_null", columns=("sku",)), fact("unique", expressions=("lower(email)",))]
    )
    applied = datagen.apply_facts(snap, facts)
    assert snap.model_dump() == before
    products = applied.tables["public.products"]
    assert products.column("sku").nullable is False
    assert [i.keys for i in products.indexes if i.name.startswith(datagen.FACT_PREFIX)] == [
        ["lower(email)"]
    ]


def test_data_template_is_cached_per_facts(sandbox: Sandbox) -> None:
    template = sandbox.template_from_sql(SHOP)
    a = DataFacts.of([fact("not_null", columns=("sku",))])
    b = DataFacts.of([fact("not_null", columns=("code",))])
    name_a, gen_a, _ = data_template(sandbox, template, 20, a)
    assert data_template(sandbox, template, 20, DataFacts.of(a.facts))[0] == name_a
    assert data_template(sandbox, template, 20, b)[0] != name_a
    assert data_template(sandbox, template, 20, None)[0] != name_a
    assert gen_a is not None and gen_a.facts == ["public.products.sku has no NULLs"]
    # a cached template remembers which facts its rows keep
    assert data_template(sandbox, template, 20, a)[1] == gen_a


# ----------------------------------------------------------- target profile
TARGET = """
CREATE TABLE products (
    id serial PRIMARY KEY, sku text, note text, email text, code varchar(40), doc json, flag boolean
);
INSERT INTO products (sku, note, email, code, doc, flag)
SELECT 'SKU-' || (g % 5), CASE WHEN g % 3 = 0 THEN NULL ELSE 'note' END,
       'buyer' || g || '@shop.test', 'C' || g, json_build_object('g', g), g % 2 = 0
FROM generate_series(1, 50) AS g;
CREATE TABLE empty_one (id int, name text);
"""


def profile(url: str, **kw) -> DataFacts:
    with target.connect_readonly(url) as conn:
        return profile_facts(conn, snapshot(conn), **kw)


def kinds(facts: DataFacts) -> set[tuple[str, str]]:
    return {(f.kind, f.columns[0]) for f in facts.facts}


def test_profile_exact_counts(target_db) -> None:
    facts = profile(target_db(TARGET))
    found = kinds(facts)
    assert {("not_null", "sku"), ("not_null", "email"), ("not_null", "code")} <= found
    assert ("not_null", "note") not in found  # the target has NULL notes
    assert ("unique", "email") in found and ("unique", "code") in found
    assert ("unique", "sku") not in found  # five skus, repeated
    assert ("unique", "id") not in found  # the primary key says it already
    assert ("not_null", "doc") in found and ("unique", "doc") not in found  # json: no equality
    assert not [f for f in facts.facts if f.table == "public.empty_one"]  # no rows, no evidence
    assert {f.source for f in facts.facts} == {"exact count"}
    lengths = {f.columns[0]: f.max_length for f in facts.facts if f.kind == "max_length"}
    assert lengths["code"] == 3 and lengths["sku"] == 5


def test_profile_from_pg_stats(target_db) -> None:
    facts = profile(target_db(TARGET), exact_below_rows=0)
    found = kinds(facts)
    assert {("not_null", "sku"), ("not_null", "email"), ("unique", "email")} <= found
    assert ("not_null", "note") not in found and ("unique", "sku") not in found
    assert ("unique", "flag") not in found  # two values cannot be unique in generated rows
    assert {f.source for f in facts.facts} == {"pg_stats"}


def test_profile_facts_prove_set_not_null(sandbox: Sandbox, target_db) -> None:
    url = target_db(TARGET)
    source = rev(
        "ALTER TABLE products ALTER COLUMN sku SET NOT NULL",
        "ALTER TABLE products ALTER COLUMN sku DROP NOT NULL",
    )
    start = StartingPoint.target(url)
    assert not verify_revision(source, start, sandbox=sandbox).passed
    report = verify_revision(source, start, sandbox=sandbox, data_facts=profile(url))
    assert report.passed, report.failure
    assert "public.products.sku has no NULLs" in report.data.facts
