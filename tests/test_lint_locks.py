"""The lock-mode table: PostgreSQL's conflict matrix, and predictions vs. what verify measures."""

from __future__ import annotations

import types

import pytest
from pglast import parse_sql

from migagent.tools.lint.locks import (
    LOCK_MODES,
    PG_LOCKS_MODE,
    blocks,
    conflicts,
    mode_from_pg_locks,
    statement_locks,
)


def locks(sql: str) -> dict[str | None, str]:
    return {lk.table or lk.index: lk.mode for lk in statement_locks(parse_sql(sql)[0].stmt)}


def test_conflict_matrix_is_symmetric_and_named_like_pg_locks():
    for a in LOCK_MODES:
        for b in LOCK_MODES:
            assert conflicts(a, b) == conflicts(b, a), (a, b)
    assert PG_LOCKS_MODE["ACCESS EXCLUSIVE"] == "AccessExclusiveLock"
    assert mode_from_pg_locks("ShareUpdateExclusiveLock") == "SHARE UPDATE EXCLUSIVE"
    assert blocks("ACCESS EXCLUSIVE") == ["reads", "writes"]
    assert blocks("SHARE") == ["writes"]
    assert blocks("SHARE UPDATE EXCLUSIVE") == []
    assert blocks("ROW EXCLUSIVE") == []


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("CREATE INDEX ix ON t (a)", {"t": "SHARE"}),
        ("CREATE INDEX CONCURRENTLY ix ON t (a)", {"t": "SHARE UPDATE EXCLUSIVE"}),
        ("ALTER TABLE t ADD COLUMN a int", {"t": "ACCESS EXCLUSIVE"}),
        (
            "ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES u (id) NOT VALID",
            {"t": "SHARE ROW EXCLUSIVE", "u": "SHARE ROW EXCLUSIVE"},
        ),
        ("ALTER TABLE t VALIDATE CONSTRAINT c", {"t": "SHARE UPDATE EXCLUSIVE"}),
        ("ALTER TABLE t SET (fillfactor = 70)", {"t": "SHARE UPDATE EXCLUSIVE"}),
        (
            "ALTER TABLE t SET (parallel_workers = 2, autovacuum_enabled = off)",
            {"t": "SHARE UPDATE EXCLUSIVE"},
        ),
        ("ALTER TABLE t SET LOGGED", {"t": "ACCESS EXCLUSIVE"}),
        ("ALTER TABLE t DISABLE TRIGGER tr", {"t": "SHARE ROW EXCLUSIVE"}),
        ("DROP INDEX CONCURRENTLY ix", {"ix": "SHARE UPDATE EXCLUSIVE"}),
        ("REINDEX TABLE t", {"t": "SHARE"}),
        ("VACUUM FULL t", {"t": "ACCESS EXCLUSIVE"}),
        ("VACUUM t", {"t": "SHARE UPDATE EXCLUSIVE"}),
        ("TRUNCATE t, u", {"t": "ACCESS EXCLUSIVE", "u": "ACCESS EXCLUSIVE"}),
        ("UPDATE t SET a = 1", {"t": "ROW EXCLUSIVE"}),
        ("CREATE TABLE c (id int REFERENCES p (id))", {"p": "SHARE ROW EXCLUSIVE"}),
        (
            "CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()",
            {"t": "SHARE ROW EXCLUSIVE"},
        ),
        ("ALTER TABLE t RENAME COLUMN a TO b", {"t": "ACCESS EXCLUSIVE"}),
    ],
)
def test_statement_locks(sql, expected):
    assert locks(sql) == expected


# Statements whose measured lock (verify, pg_locks) must equal the prediction.
MEASURED = [
    "CREATE INDEX ix_a ON orders (a)",
    "ALTER TABLE orders ADD COLUMN c int",
    "ALTER TABLE orders ADD CONSTRAINT chk CHECK (a > 0) NOT VALID",
    "ALTER TABLE orders VALIDATE CONSTRAINT chk",
    "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (b) REFERENCES customers (id) NOT VALID",
    "ALTER TABLE orders ALTER COLUMN a SET STATISTICS 200",
    "ALTER TABLE orders SET (fillfactor = 80)",
    "ALTER TABLE orders ALTER COLUMN a TYPE bigint",
    "TRUNCATE orders",
    "UPDATE orders SET a = 1",
]


def test_predictions_match_what_verify_measures(make_db):
    runner = pytest.importorskip("migagent.tools.verify.runner")
    db = make_db(
        "CREATE TABLE customers (id bigint PRIMARY KEY);"
        "CREATE TABLE orders (id bigint PRIMARY KEY, a int, b bigint);"
    )
    for sql in MEASURED:
        # one migration (one transaction) per statement: verify reports newly granted locks
        module = types.ModuleType("rev_locks")
        exec(
            "from alembic import op\n"
            "revision = 'l1'\ndown_revision = None\n"
            f"def upgrade():\n    op.execute({sql!r})\n"
            "def downgrade():\n    pass\n",
            module.__dict__,
        )
        try:
            records = runner.run_migration(db, module, "upgrade")
        except TypeError as exc:  # pragma: no cover - verify's API moved
            pytest.skip(f"verify API changed: {exc}")
        [record] = [r for r in records if not r.internal and r.sql.strip().rstrip(";") == sql]
        for table, mode in locks(sql).items():
            assert record.lock_on(table) == mode, (sql, table, record.locks)
