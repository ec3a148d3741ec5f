"""`verify_revision` on real servers: each step catches what it is there to catch."""

from __future__ import annotations

import contextlib
import os
import textwrap

import psycopg
import pytest

from migagent.tools.sandbox import SCRATCH_PREFIX, Sandbox
from migagent.tools.verify import (
    RevisionSource,
    StartingPoint,
    VerificationReport,
    verify_revision,
)

SCHEMA = """
CREATE TABLE customers (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text);
CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    total numeric(10,2) NOT NULL CHECK (total >= 0),
    note text
);
"""


def rev(body_up: str, body_down: str | None = "pass", *, header: str = "") -> RevisionSource:
    up = textwrap.indent(textwrap.dedent(body_up).strip(), "    ")
    text = (
        "from alembic import op\nimport sqlalchemy as sa\n"
        + textwrap.dedent(header)
        + "\nrevision = 'r2'\ndown_revision = 'r1'\n\n"
        + f"def upgrade():\n{up}\n"
    )
    if body_down is not None:
        down = textwrap.indent(textwrap.dedent(body_down).strip(), "    ")
        text += f"\n\ndef downgrade():\n{down}\n"
    return RevisionSource.from_text(text, name="r2_test.py")


def verify(
    sandbox: Sandbox, source: RevisionSource, schema: str = SCHEMA, **kw
) -> VerificationReport:
    return verify_revision(source, StartingPoint.schema_sql(schema), sandbox=sandbox, **kw)


def status(report: VerificationReport) -> dict[str, str]:
    return {s.name: s.status for s in report.steps}


def scratch_databases(sandbox: Sandbox) -> set[str]:
    """This process's scratch databases (other processes share the embedded server)."""
    prefix = f"{SCRATCH_PREFIX}{os.getpid()}_".replace("_", r"\_")
    with sandbox.admin() as conn:
        return {
            r[0]
            for r in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", (prefix + "%",)
            )
        }


# ------------------------------------------------------------------ passing
def test_good_revision_passes_every_step(sandbox: Sandbox) -> None:
    before = scratch_databases(sandbox)
    report = verify(
        sandbox,
        rev(
            """
            op.add_column("orders", sa.Column("shipped_at", sa.DateTime(timezone=True)))
            op.create_index("ix_orders_customer", "orders", ["customer_id"])
            """,
            """
            op.drop_index("ix_orders_customer", "orders")
            op.drop_column("orders", "shipped_at")
            """,
        ),
        checks=[
            "SELECT count(*) FROM orders",
            "SELECT count(*) = 0 FROM orders WHERE shipped_at IS NOT NULL",
        ],
    )
    assert report.passed, report.reasons
    assert status(report) == {
        "load": "passed",
        "data": "passed",
        "snapshot": "passed",
        "upgrade": "passed",
        "checks": "passed",
        "downgrade": "passed",
        "reupgrade": "passed",
    }
    assert report.revision == "r2" and report.down_revision == "r1"
    assert {c.name for c in report.schema_changes} == {
        "public.orders.shipped_at",
        "public.orders.ix_orders_customer",
    }
    assert report.data.tables["public.orders"].rows == 100
    assert report.data.tables["public.orders"].generated
    assert report.checks[0].rows == [["100"]]
    assert report.data_loss.risk == "None" and not report.downgrade_residue
    add, index = [s for s in report.upgrade if not s.internal]
    assert add.lock_on("orders") == "ACCESS EXCLUSIVE" and add.transactional
    assert index.lock_on("public.orders") == "SHARE"
    assert add.duration_ms > 0 and add.locks_held_ms >= add.duration_ms
    assert report.exit_code == 0
    assert scratch_databases(sandbox) == before  # the scratch database is gone


# ------------------------------------------------------- what each step catches
def test_downgrade_that_forgets_an_index_fails(sandbox: Sandbox) -> None:
    report = verify(
        sandbox,
        rev(
            'op.create_index("ix_orders_note", "orders", ["note"])',
            "pass",
        ),
    )
    assert not report.passed and report.exit_code == 1
    assert status(report)["downgrade"] == "failed"
    [residue] = report.downgrade_residue
    assert residue.object_type == "index" and residue.name.endswith("ix_orders_note")
    assert "ix_orders_note" in " ".join(report.step("downgrade").reasons)
    # ... and the second upgrade trips over the debris
    assert status(report)["reupgrade"] == "failed"
    assert "already exists" in report.step("reupgrade").reasons[0]


def test_downgrade_that_leaves_a_type_behind_fails(sandbox: Sandbox) -> None:
    report = verify(
        sandbox,
        rev(
            """
            status = postgresql.ENUM("new", "paid", "shipped", name="order_status")
            status.create(op.get_bind(), checkfirst=True)
            op.add_column(
                "orders",
                sa.Column("status", postgresql.ENUM(name="order_status", create_type=False)),
            )
            """,
            'op.drop_column("orders", "status")',
            header="from sqlalchemy.dialects import postgresql\n",
        ),
    )
    assert status(report)["upgrade"] == "passed"
    assert any(c.object_type in ("enum", "type") for c in report.schema_changes)
    assert status(report)["downgrade"] == "failed"
    assert [c.object_type for c in report.downgrade_residue] in (["enum"], ["type"])
    assert "order_status" in report.downgrade_residue[0].name
    assert not report.passed


def test_upgrade_that_loses_data_is_reported_with_amount(sandbox: Sandbox) -> None:
    report = verify(
        sandbox,
        rev(
            'op.drop_column("customers", "name")',
            'op.add_column("customers", sa.Column("name", sa.Text()))',
        ),
    )
    assert status(report)["downgrade"] == "warning"  # schema restored, data not
    assert report.passed  # loss is reported, not a failure
    assert report.data_loss.risk == "High"
    [finding] = report.data_loss.findings
    assert (finding.table, finding.column, finding.kind) == (
        "public.customers",
        "name",
        "values lost",
    )
    assert finding.amount == finding.baseline == 90  # 100 rows, one in ten generated NULL
    assert "90 of 90 values lost in public.customers.name" in finding.detail


def test_data_migration_that_deletes_rows_reports_rows_lost(sandbox: Sandbox) -> None:
    report = verify(
        sandbox,
        rev(
            "op.execute(sa.text('DELETE FROM orders WHERE id % 20 = 0'))",
            "pass",
        ),
    )
    [finding] = report.data_loss.findings
    assert (finding.kind, finding.amount, finding.baseline) == ("rows lost", 5, 100)
    assert report.data_loss.risk == "Medium"
    assert report.upgrade[0].lock_on("orders") == "ROW EXCLUSIVE"
    assert report.upgrade[0].rowcount == 5


@pytest.mark.slow
def test_blocking_lock_on_a_large_table_is_measured(sandbox: Sandbox) -> None:
    schema = (
        "CREATE TABLE events (id bigint PRIMARY KEY, kind int NOT NULL, payload text);\n"
        "INSERT INTO events SELECT g, g % 7, repeat('x', 50) FROM generate_series(1, 50000) g;\n"
    )
    report = verify(
        sandbox,
        rev(
            'op.alter_column("events", "kind", type_=sa.BigInteger())',
            'op.alter_column("events", "kind", type_=sa.Integer())',
        ),
        schema,
    )
    assert report.data.real_rows and not report.data.tables["public.events"].generated
    [stmt] = [s for s in report.upgrade if not s.internal]
    assert stmt.lock_on("events") == "ACCESS EXCLUSIVE"
    assert stmt.rewrites == ["public.events"]
    assert "public.events_pkey" in stmt.rebuilt_indexes
    [block] = report.blocking_locks
    assert (block.table, block.mode, block.blocks, block.rows, block.rewrite) == (
        "public.events",
        "ACCESS EXCLUSIVE",
        "reads and writes",
        50000,
        True,
    )
    assert block.held_ms >= stmt.duration_ms > 0
    assert "ACCESS EXCLUSIVE on public.events (50000 rows)" in " ".join(
        report.step("upgrade").reasons
    )
    assert report.passed  # the round trip itself is sound
    assert report.data_loss.risk == "None"


@pytest.fixture
def lock_held_on_orders(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch):
    """Every scratch database comes with another session holding ACCESS SHARE on orders."""
    original = Sandbox.scratch

    @contextlib.contextmanager
    def scratch(self, template=None):
        with original(self, template) as db:
            blocker = psycopg.connect(db.url)
            blocker.execute("LOCK TABLE orders IN ACCESS SHARE MODE")
            try:
                yield db
            finally:
                with contextlib.suppress(psycopg.Error):
                    blocker.close()

    monkeypatch.setattr(Sandbox, "scratch", scratch)


def test_statement_hitting_lock_timeout_is_named(sandbox: Sandbox, lock_held_on_orders) -> None:
    before = scratch_databases(sandbox)
    report = verify(
        sandbox,
        rev(
            """
            op.create_index("ix_orders_total", "orders", ["total"])
            op.add_column("orders", sa.Column("flag", sa.Boolean()))
            """,
            'op.drop_column("orders", "flag")',
        ),
        lock_timeout_ms=200,
    )
    assert not report.passed and report.exit_code == 1
    assert status(report)["upgrade"] == "failed"
    failure = report.failure
    assert failure.step == "upgrade" and failure.statement == 2
    assert failure.sql == "ALTER TABLE orders ADD COLUMN flag BOOLEAN"
    assert "hit lock_timeout (200 ms)" in failure.message
    assert "ACCESS EXCLUSIVE on public.orders" in failure.message  # what it waited for
    assert "r2_test.py:" in failure.location
    assert "downgrade" not in status(report)  # nothing ran after the failure
    assert scratch_databases(sandbox) == before


def test_statement_timeout_ends_a_long_statement(sandbox: Sandbox) -> None:
    report = verify(
        sandbox,
        rev("op.execute('SELECT pg_sleep(5)')"),
        statement_timeout_ms=150,
    )
    assert report.failure.step == "upgrade"
    assert "ran longer than statement_timeout (150 ms)" in report.failure.message
    assert report.duration_ms < 5000


def test_revision_that_does_not_import(sandbox: Sandbox) -> None:
    before = scratch_databases(sandbox)
    source = RevisionSource.from_text(
        "from alembic import op\nimport not_a_module_anywhere\n\ndef upgrade():\n    pass\n",
        name="broken.py",
    )
    report = verify(sandbox, source)
    assert status(report) == {"load": "failed"}
    assert report.failure.location == "broken.py:2"
    assert "ModuleNotFoundError" in report.failure.message
    assert report.exit_code == 1
    assert scratch_databases(sandbox) == before


def test_revision_with_a_syntax_error(sandbox: Sandbox) -> None:
    source = RevisionSource.from_text("def upgrade(:\n    pass\n", name="syntax.py")
    report = verify(sandbox, source)
    assert report.failure.step == "load" and report.failure.location == "syntax.py:1"
    assert "SyntaxError" in report.failure.message


def test_upgrade_that_raises_names_the_line(sandbox: Sandbox) -> None:
    before = scratch_databases(sandbox)
    report = verify(
        sandbox,
        rev(
            """
            op.add_column("orders", sa.Column("x", sa.Integer()))
            raise ValueError("backfill source missing")
            """
        ),
    )
    assert report.failure.step == "upgrade"
    assert report.failure.message == "upgrade() raised ValueError: backfill source missing"
    assert report.failure.location == "r2_test.py:9 in upgrade()"
    assert len(report.upgrade) == 1  # the statement before the raise was recorded
    assert scratch_databases(sandbox) == before


def test_revision_without_downgrade_fails_after_upgrading(sandbox: Sandbox) -> None:
    report = verify(
        sandbox,
        rev('op.add_column("orders", sa.Column("x", sa.Integer()))', None),
    )
    assert status(report)["load"] == "failed"
    assert "no downgrade()" in report.step("load").reasons[0]
    assert status(report)["upgrade"] == "passed"
    assert status(report)["downgrade"] == "failed"
    assert not report.passed


def test_failing_check_and_read_only_checks(sandbox: Sandbox) -> None:
    report = verify(
        sandbox,
        rev(
            'op.add_column("orders", sa.Column("x", sa.Integer()))',
            'op.drop_column("orders", "x")',
        ),
        checks=[
            "SELECT bool_and(x IS NOT NULL) FROM orders",  # false: x was never backfilled
            "DELETE FROM orders",  # checks are read-only
            "SELECT id FROM orders ORDER BY id",
        ],
    )
    assert status(report)["checks"] == "failed"
    false_check, delete, listing = report.checks
    assert not false_check.ok and false_check.error == "returned false"
    assert not delete.ok and "read-only" in delete.error
    assert listing.ok and listing.row_count == 100 and listing.truncated
    assert len(listing.rows) == 20
    assert status(report)["downgrade"] == "passed"  # the delete did not happen


def test_upgrade_only(sandbox: Sandbox) -> None:
    report = verify(
        sandbox,
        rev('op.create_index("ix_n", "orders", ["note"])'),
        check_round_trip=False,
    )
    assert report.passed
    assert "downgrade" not in status(report)


def test_generated_rows_are_cached_per_schema_and_row_count(sandbox: Sandbox) -> None:
    from migagent.tools.verify.fingerprint import fingerprint
    from migagent.tools.verify.verify import data_template

    template = sandbox.template_from_sql(SCHEMA + "\n-- cache test\n")
    first_name, first, prints = data_template(sandbox, template, 7)
    again_name, again, prints_again = data_template(sandbox, template, 7)
    other_name, _, _ = data_template(sandbox, template, 8)
    assert first_name == again_name != other_name
    assert first == again and first.rows == {"public.customers": 7, "public.orders": 7}
    assert prints == prints_again and prints["public.orders"].rows == 7
    with sandbox.scratch(first_name) as db, db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (7,)
        assert fingerprint(conn) == prints  # every clone has exactly the cached rows
    # templates that are not content-named are not cached: rows are made in the scratch copy
    assert data_template(sandbox, "some_template", 7) == ("some_template", None, None)
