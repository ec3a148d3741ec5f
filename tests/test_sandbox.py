"""The sandbox on real servers: templates, clones, cleanup, load errors."""

from __future__ import annotations

import psycopg
import pytest

from migagent.errors import DatabaseError, UsageError
from migagent.tools.sandbox import SCRATCH_PREFIX, Sandbox, adapt_script

SCHEMA = """
CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 50) g;
"""


def _databases(sandbox: Sandbox) -> set[str]:
    with sandbox.admin() as conn:
        return {r[0] for r in conn.execute("SELECT datname FROM pg_database")}


def test_clone_has_template_rows_and_is_dropped(sandbox: Sandbox) -> None:
    template = sandbox.template_from_sql(SCHEMA)
    with sandbox.scratch(template) as db:
        assert db.name.startswith(SCRATCH_PREFIX)
        with db.connect() as conn:
            assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == 50
            conn.execute("DELETE FROM items")  # changes stay in the clone
            conn.commit()
        assert db.name in _databases(sandbox)
    assert db.name not in _databases(sandbox)
    with sandbox.scratch(template) as again, again.connect() as conn:
        assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == 50


def test_same_sql_reuses_one_template(sandbox: Sandbox) -> None:
    assert sandbox.template_from_sql(SCHEMA) == sandbox.template_from_sql(SCHEMA)
    assert sandbox.template_from_sql(SCHEMA) != sandbox.template_from_sql(SCHEMA + "\n-- x\n")


def test_scratch_dropped_when_block_raises(sandbox: Sandbox) -> None:
    with pytest.raises(RuntimeError), sandbox.scratch() as db:
        name = db.name
        raise RuntimeError("boom")
    assert name not in _databases(sandbox)


def test_scratch_dropped_while_a_connection_is_open(sandbox: Sandbox) -> None:
    with sandbox.scratch() as db:
        conn = db.connect()
        conn.execute("SELECT 1")
    assert db.name not in _databases(sandbox)
    with pytest.raises(psycopg.OperationalError):
        conn.execute("SELECT 1")


def test_bad_sql_names_line_and_leaves_nothing(sandbox: Sandbox) -> None:
    before = _databases(sandbox)
    with pytest.raises(DatabaseError, match=r"line 3: .*relation \"missing\" does not exist"):
        sandbox.template_from_sql("CREATE TABLE a (id int);\n\nSELECT * FROM missing;\n")
    assert _databases(sandbox) == before


def test_missing_schema_file(sandbox: Sandbox, tmp_path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        sandbox.template_from_file(tmp_path / "nope.sql")


def test_newer_dump_settings_are_dropped_for_older_servers() -> None:
    dump = "SET statement_timeout = 0;\nSET transaction_timeout = 0;\nCREATE TABLE t (id int);\n"
    assert "transaction_timeout" not in adapt_script(dump, 150000)
    assert "statement_timeout" in adapt_script(dump, 150000)
    assert adapt_script(dump, 180000) == dump


def test_bad_sandbox_url_is_one_line_error() -> None:
    with pytest.raises(DatabaseError, match="cannot connect"):
        Sandbox.open("postgresql://postgres@127.0.0.1:1/postgres")
    with pytest.raises(UsageError, match="not a PostgreSQL URL"):
        Sandbox.open("mysql://root@127.0.0.1/db")
