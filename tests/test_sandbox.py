"""The sandbox on real servers: templates, clones, cleanup, load errors."""

from __future__ import annotations

import os

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
    mine = f"{SCRATCH_PREFIX}{os.getpid()}_"  # other test workers create databases too

    def own() -> set[str]:
        return {d for d in _databases(sandbox) if d.startswith(mine)}

    before = own()
    with pytest.raises(DatabaseError, match=r"line 3: .*relation \"missing\" does not exist"):
        sandbox.template_from_sql("CREATE TABLE a (id int);\n\nSELECT * FROM missing;\n")
    assert own() == before


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


STAND_IN_SCHEMA = """
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE TABLE accounts (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
    token_hash bytea DEFAULT digest('seed', 'sha256'),
    name text NOT NULL
);
INSERT INTO accounts (name) SELECT 'a' || g FROM generate_series(1, 5) g;
"""


def test_schema_using_uuid_ossp_and_pgcrypto_loads_on_every_sandbox(sandbox: Sandbox) -> None:
    """The embedded server lacks both extensions: its stand-ins must make such a schema load,
    be reported as stand-ins, and compute what the real functions compute."""
    from migagent.tools.sandbox import stand_ins

    with sandbox.scratch(sandbox.template_from_sql(STAND_IN_SCHEMA)) as db, db.connect() as conn:
        assert conn.execute("SELECT count(DISTINCT id) FROM accounts").fetchone()[0] == 5
        v3 = conn.execute("SELECT uuid_generate_v3(uuid_ns_dns(), 'www.example.com')::text")
        assert v3.fetchone()[0] == "5df41881-3aed-3515-88a7-2f4a814cf09e"  # RFC 4122 example
        digest = conn.execute("SELECT encode(digest('abc', 'sha256'), 'hex')").fetchone()[0]
        assert digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        used = stand_ins(conn)
        if sandbox.embedded:
            assert used == ["pgcrypto", "uuid-ossp"]
            with pytest.raises(psycopg.errors.RaiseException, match="not available"):
                conn.execute("SELECT crypt('pw', 'salt')")
        else:
            assert used == []  # a real server's real extensions are never called stand-ins


def test_extension_the_sandbox_lacks_is_named(sandbox: Sandbox) -> None:
    with pytest.raises(DatabaseError, match=r"extension no_such_ext.*MIGAGENT_SANDBOX_URL"):
        sandbox.template_from_sql('CREATE EXTENSION "no_such_ext";')


def test_build_template_runs_once_keeps_its_note_and_cleans_up_failures(sandbox: Sandbox) -> None:
    calls = []

    def build(url: str) -> str:
        calls.append(url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE built (n int)")
        return '{"rows": 0}'

    key = f"test\0{os.getpid()}\0{id(calls)}"
    name = sandbox.build_template(key, build)
    assert sandbox.build_template(key, build) == name and len(calls) == 1
    assert sandbox.template_note(name) == '{"rows": 0}'
    with sandbox.scratch(name) as db, db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM built").fetchone()[0] == 0

    mine = f"{SCRATCH_PREFIX}{os.getpid()}_"
    before = {d for d in _databases(sandbox) if d.startswith(mine)}

    def broken(url: str) -> None:
        raise RuntimeError("build failed")

    with pytest.raises(RuntimeError):
        sandbox.build_template(key + "\0broken", broken)
    assert {d for d in _databases(sandbox) if d.startswith(mine)} == before
