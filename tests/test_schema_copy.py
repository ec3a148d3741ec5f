"""Copying a target's schema into the sandbox, and loading schema files, on real servers.

The target is the PostgreSQL 15 server when MIGAGENT_TEST_SERVER_URL is set (its
catalog carries `pg_attver` column options PostgreSQL 18 rejects); the sandbox is
the embedded PostgreSQL 18.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from migagent.errors import DatabaseError, UsageError
from migagent.tools import pgurl
from migagent.tools.introspect import snapshot
from migagent.tools.introspect.diff import diff_snapshots
from migagent.tools.sandbox import Sandbox, bin_dir
from migagent.tools.sqlscript import Context, StatementFailed, repair, run_script, split_script

SHOP = """
CREATE TYPE status AS ENUM ('new', 'paid', 'shipped');
CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text UNIQUE);
CREATE TABLE products (
    id serial PRIMARY KEY,
    sku text,
    name text NOT NULL CHECK (name <> ''),
    price numeric(10, 2) DEFAULT 0
);
ALTER TABLE products ALTER COLUMN sku SET (n_distinct = 100);
CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    state status NOT NULL DEFAULT 'new',
    created_at timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 90);
CREATE INDEX orders_customer_idx ON orders (customer_id) WHERE state <> 'shipped';
CREATE VIEW open_orders AS SELECT id, customer_id FROM orders WHERE state = 'new';
CREATE FUNCTION order_count(c bigint) RETURNS bigint LANGUAGE sql STABLE
    AS $$ SELECT count(*) FROM orders WHERE customer_id = c $$;
COMMENT ON TABLE products IS 'what we sell; "quoted" \\ and all';
INSERT INTO customers (email) SELECT 'c' || g || '@example.com' FROM generate_series(1, 20) g;
INSERT INTO products (sku, name) SELECT 'SKU-' || g, 'product ' || g FROM generate_series(1, 20) g;
"""


@pytest.fixture(scope="module")
def box() -> Sandbox:
    return Sandbox.open()  # the embedded PostgreSQL 18: the sandbox every user gets


def _attoptions(url: str, table: str, column: str) -> list[str]:
    with pgurl.connect(url) as conn:
        row = conn.execute(
            "SELECT attoptions FROM pg_attribute WHERE attrelid = %s::regclass AND attname = %s",
            (table, column),
        ).fetchone()
    return list(row[0] or [])


def _snapshot(url: str):
    with pgurl.connect(url) as conn:
        return snapshot(conn)


def _deparse_differs(target_url: str, box: Sandbox):
    """PostgreSQL 16+ prints view columns unqualified (`SELECT id` for `SELECT orders.id`):
    across major versions a view's definition text differs while the view is the same."""
    with pgurl.connect(target_url) as conn:
        same = conn.info.server_version // 10000 == box.version // 10000
    return lambda c: not same and c.object_type == "view" and "definition differs" in c.detail


def _available_extensions(url: str) -> set[str]:
    with pgurl.connect(url) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM pg_available_extensions")}


def test_target_schema_copies_into_the_sandbox_unknown_column_options_dropped(
    box: Sandbox, target_db
) -> None:
    url = target_db(SHOP)
    target_options = _attoptions(url, "products", "sku")
    unknown = sorted(
        {o.split("=")[0] for o in target_options} - {"n_distinct", "n_distinct_inherited"}
    )

    template = box.template_from_target(url)

    with box.scratch(template) as db:
        copied = _snapshot(db.url)
        assert _attoptions(db.url, "products", "sku") == ["n_distinct=100"]  # kept
        with db.connect() as conn:  # the schema, never the rows
            assert conn.execute("SELECT count(*) FROM products").fetchone()[0] == 0
    changes = diff_snapshots(_snapshot(url), copied, ignore=_deparse_differs(url, box))
    assert changes.empty, changes.summary()
    assert "public.open_orders" in copied.views

    notices = box.copy_notices(template)
    for option in unknown:  # pg_attver on the PostgreSQL 15 server
        assert (
            f"dropped column option {option} on public.products.sku "
            "(the sandbox's PostgreSQL 18 does not know it)"
        ) in notices
    assert all(n.startswith("dropped column option") for n in notices)
    assert box.template_from_target(url) == template  # content-addressed, despite \restrict


# extensions some servers have and the embedded PostgreSQL 18 lacks, with an
# expression that uses one (for a view that depends on it)
LACKING = {
    "adminpack": "pg_catalog.pg_file_unlink('no such file')",
    "sslinfo": "ssl_is_used()",
    "xml2": "xpath_string('<a>1</a>', '/a')",
    "old_snapshot": "(SELECT count(*) FROM pg_old_snapshot_time_mapping())",
}


def _lacking_extension(box: Sandbox, target_admin: str) -> str:
    """An extension the target server has and the sandbox does not."""
    missing = _available_extensions(target_admin) - _available_extensions(box.url)
    for name in LACKING:
        if name in missing:
            return name
    pytest.skip(f"no extension of {sorted(LACKING)} is on the target and not the sandbox")


@pytest.fixture
def target_admin() -> str:
    import os

    return os.environ.get("MIGAGENT_TEST_SERVER_URL") or Sandbox.open().url


def test_extension_the_sandbox_lacks_and_nothing_uses_is_skipped_with_a_notice(
    box: Sandbox, target_db, target_admin: str
) -> None:
    ext = _lacking_extension(box, target_admin)
    url = target_db(f'CREATE EXTENSION "{ext}";\n' + SHOP)

    template = box.template_from_target(url)

    assert (
        f"skipped extension {ext} (the sandbox's PostgreSQL 18 does not have it, "
        "and nothing in the schema needs it)"
    ) in box.copy_notices(template)
    with box.scratch(template) as db:
        copied = _snapshot(db.url)
    differs = _deparse_differs(url, box)
    changes = diff_snapshots(
        _snapshot(url), copied, ignore=lambda c: c.object_type == "extension" or differs(c)
    )
    assert changes.empty, changes.summary()


def test_extension_the_sandbox_lacks_that_the_schema_uses_is_named(
    box: Sandbox, target_db, target_admin: str
) -> None:
    ext = _lacking_extension(box, target_admin)
    url = target_db(
        f'CREATE EXTENSION "{ext}";\nCREATE VIEW uses_it AS SELECT {LACKING[ext]} AS x;'
    )

    with pytest.raises(DatabaseError) as raised:
        box.template_from_target(url)

    message = str(raised.value)
    assert (
        f"needs the PostgreSQL extension {ext}, which the sandbox server does not have" in message
    )
    assert "CREATE VIEW public.uses_it" in message
    assert "MIGAGENT_SANDBOX_URL (or --sandbox-url)" in message and "\n" not in message


def test_policy_for_a_role_the_sandbox_lacks_is_kept_for_public(
    box: Sandbox, target_db, target_admin: str
) -> None:
    import secrets

    if target_admin == box.url:
        pytest.skip("the target is on the sandbox server, which has every role it has")
    role = f"migagent_app_{secrets.token_hex(3)}"
    url = target_db(
        f"CREATE ROLE {role} NOLOGIN; CREATE TABLE docs (id int, owner text);"
        " ALTER TABLE docs ENABLE ROW LEVEL SECURITY;"
        f" CREATE POLICY mine ON docs TO {role} USING (owner = current_user);"
    )
    try:
        template = box.template_from_target(url)
        with box.scratch(template) as db, db.connect() as conn:
            roles = conn.execute("SELECT roles FROM pg_policies WHERE policyname = 'mine'")
            copied = roles.fetchone()[0]
    finally:
        with pgurl.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP POLICY mine ON docs; DROP ROLE {role}")
    assert copied == ["public"]
    assert box.copy_notices(template) and box.copy_notices(template)[-1] == (
        f"policy mine on public.docs applies to PUBLIC, not {role} "
        "(the sandbox server has no such role)"
    )


@pytest.mark.slow
def test_table_locked_on_the_target_names_the_holder_within_seconds(
    box: Sandbox, target_db
) -> None:
    url = target_db("CREATE TABLE orders (id int PRIMARY KEY); CREATE TABLE other (id int);")
    with psycopg.connect(url) as holder:  # an open transaction, as a migration would hold it
        holder.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        with pytest.raises(DatabaseError) as raised:
            box.template_from_target(url)
        elapsed = time.monotonic() - started
        pid = holder.info.backend_pid
    assert elapsed < 10
    assert re.search(
        rf"cannot copy the schema of .*: table public\.orders is locked by pid {pid} "
        r'\(ACCESS EXCLUSIVE, "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE", running \d+ s\)\. '
        "Try again when it is released",
        str(raised.value),
    ), str(raised.value)


@pytest.mark.slow
def test_lock_queued_behind_a_long_transaction_names_both(box: Sandbox, target_db) -> None:
    """An ALTER waiting for ACCESS EXCLUSIVE blocks every read queued behind it."""
    import threading

    url = target_db("CREATE TABLE orders (id int PRIMARY KEY);")
    with psycopg.connect(url) as reader, psycopg.connect(url) as alter:
        reader.execute("SELECT * FROM orders")  # ACCESS SHARE in an open transaction
        waiting = threading.Thread(target=alter.execute, args=("ALTER TABLE orders ADD x int",))
        waiting.start()
        time.sleep(0.5)
        with pytest.raises(DatabaseError) as raised:
            box.template_from_target(url)
        reader.rollback()
        waiting.join()
        alter.rollback()
        pids = reader.info.backend_pid, alter.info.backend_pid
    assert re.search(
        rf"table public\.orders is about to be locked by pid {pids[1]} "
        r'\(ACCESS EXCLUSIVE, "ALTER TABLE orders ADD x int", waiting \d+ s '
        rf"behind pid {pids[0]}\)",
        str(raised.value),
    ), str(raised.value)


# ------------------------------------------------------------- schema files
@pytest.mark.parametrize(
    ("command", "shown"), [("\\! touch {marker}", "\\!"), ("\\c other", "\\c")]
)
def test_psql_meta_commands_in_a_schema_file_are_refused_not_run(
    box: Sandbox, tmp_path: Path, command: str, shown: str
) -> None:
    marker = tmp_path / "x"
    schema = tmp_path / "schema.sql"
    schema.write_text(
        f"CREATE TABLE a (id int);\n\n{command.format(marker=marker)}\nCREATE TABLE b (id int);\n"
    )
    with pytest.raises(UsageError) as raised:
        box.template_from_file(schema)
    assert str(raised.value) == (
        f"{schema} line 3: psql meta-command {shown} is not allowed in a schema file. Remove it"
    )
    assert not marker.exists()


def test_pg_dump_with_copy_data_loads_its_rows(box: Sandbox, tmp_path: Path) -> None:
    """A full pg_dump (of a sandbox database: a schema file must load as written, so not
    of the PostgreSQL 15 server, whose dumps carry pg_attver) loads its COPY rows."""
    rows_sql = r"""
        CREATE TABLE notes (id int PRIMARY KEY, body text);
        INSERT INTO notes VALUES (1, E'tab\there, newline\nthere, backslash \\ end'),
            (2, NULL), (3, E'it''s ; \\. not the end'), (4, 'ünïcödé');
    """
    dump = tmp_path / "full.sql"
    with box.scratch() as source:
        with source.connect(autocommit=True) as conn:
            conn.execute(SHOP + rows_sql)
            expected = conn.execute("SELECT id, body FROM notes ORDER BY id").fetchall()
        subprocess.run(
            [str(bin_dir() / "pg_dump"), "--no-owner", "-f", str(dump), "-d", source.url],
            check=True,
        )
    assert "COPY public.notes" in dump.read_text() and "\\restrict" in dump.read_text()

    with box.scratch(box.template_from_file(dump)) as copy, copy.connect() as conn:
        assert conn.execute("SELECT count(*) FROM products").fetchone()[0] == 20
        assert conn.execute("SELECT id, body FROM notes ORDER BY id").fetchall() == expected
    assert expected[2][1] == "it's ; \\. not the end" and expected[1][1] is None


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is binary, not SQL text"),
        (b"CREATE TABLE caf\xe9 (id int);\n", "is not UTF-8 text (byte 0xe9 at offset 16)"),
        (b"PGDMP\x01\x0e\x00\x04\x08\x01\x01", "is a pg_dump archive, not SQL"),
    ],
)
def test_unreadable_schema_file_is_a_one_line_usage_error(
    box: Sandbox, tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "schema.sql"
    path.write_bytes(content)
    with pytest.raises(UsageError) as raised:
        box.template_from_file(path)
    assert f"schema file {path} {problem}" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_failed_statement_is_named_with_its_line(box: Sandbox) -> None:
    script = "CREATE TABLE a (id int);\n-- a comment\nCREATE VIEW v AS\n  SELECT nope FROM a;\n"
    with pytest.raises(DatabaseError) as raised:
        box.template_from_sql(script, source="schema.sql")
    assert str(raised.value).startswith(
        'schema.sql failed to load: line 4: column "nope" does not exist '
        "(in CREATE VIEW v AS SELECT nope FROM a)"
    )


# ---------------------------------------------------------- the pure parts
def test_split_respects_quotes_dollar_quotes_comments_and_copy_data() -> None:
    script = (
        "\\restrict K3y\n"
        "-- a comment; with a semicolon and a \\backslash\n"
        "CREATE TABLE t (a text);  /* trailing ; */\n"
        "COPY public.t (a) FROM stdin;\n"
        "\\N\n"
        "it's; $$ not SQL\n"
        "\\.\n"
        "CREATE FUNCTION f() RETURNS text LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "\\x inside a dollar quote\n"
        "  RETURN E'\\\\'; END $body$;\n"
        "SELECT 1; SELECT 'two\n"
        "\\c lines'\n"
        "\\unrestrict K3y\n"
    )
    statements = split_script(script)
    assert [(s.line, s.sql.split("\n")[0]) for s in statements] == [
        (3, "CREATE TABLE t (a text)"),
        (4, "COPY public.t (a) FROM stdin"),
        (8, "CREATE FUNCTION f() RETURNS text LANGUAGE plpgsql AS $body$"),
        (12, "SELECT 1"),
        (12, "SELECT 'two"),
    ]
    assert statements[1].copy_data == "\\N\nit's; $$ not SQL\n"
    assert statements[4].sql == "SELECT 'two\n\\c lines'"


@pytest.mark.parametrize(
    ("script", "line", "command"),
    [
        ("SELECT 1; \\gexec\n", 1, "\\gexec"),
        ("SELECT 1;\n-- fine \\x\n  \\i /etc/passwd\n", 3, "\\i"),
        ("SELECT E'\\n'; SELECT 1 \\\\\n", 1, "\\\\"),
        ("SELECT $$\n\\set x$$;\n\\set y 1\n", 3, "\\set"),
        ("SELECT 1;\n\\connect other\n", 2, "\\connect"),
    ],
)
def test_split_refuses_meta_commands(script: str, line: int, command: str) -> None:
    with pytest.raises(
        UsageError, match=re.escape(f"s.sql line {line}: psql meta-command {command} ")
    ):
        split_script(script, source="s.sql")


def test_unknown_column_option_is_stripped_and_the_others_kept() -> None:
    error = psycopg.errors.InvalidParameterValue('unrecognized parameter "pg_attver"')
    sql = "ALTER TABLE ONLY public.t ALTER COLUMN a SET (pg_attver=7, n_distinct=5)"
    outcome = repair(sql, error, Context(server_major=18))
    assert outcome is not None
    assert outcome.sql == "ALTER TABLE ONLY public.t ALTER COLUMN a SET (n_distinct = 5)"
    assert outcome.notices == (
        "dropped column option pg_attver on public.t.a "
        "(the sandbox's PostgreSQL 18 does not know it)",
    )
    two = (
        "ALTER TABLE t ALTER COLUMN a SET (pg_attver=7),"
        " ALTER COLUMN b SET (pg_attver=7, n_distinct=2)"
    )
    both = repair(two, error, Context(18))
    assert both is not None and both.sql == "ALTER TABLE t ALTER COLUMN b SET (n_distinct = 2)"
    assert [n.split(" (")[0] for n in both.notices] == [
        "dropped column option pg_attver on t.a",
        "dropped column option pg_attver on t.b",
    ]
    alone = repair("ALTER TABLE ONLY public.t ALTER COLUMN a SET (pg_attver=7)", error, Context(18))
    assert alone is not None and alone.sql is None
    assert repair("CREATE TABLE x (a int)", error, Context(18)) is None


def test_tolerant_run_keeps_known_storage_options_on_a_real_server(box: Sandbox) -> None:
    script = (
        "CREATE TABLE t (a int) WITH (fillfactor = 70, no_such_option = 1);\n"
        "CREATE INDEX t_a ON t (a) WITH (fillfactor = 80, other_unknown = 2);\n"
        "ALTER TABLE t SET (autovacuum_enabled = false, third_unknown = 3);\n"
    )
    with box.scratch() as db, db.connect(autocommit=True) as conn:
        # strict: a schema file must load as written
        with pytest.raises(StatementFailed, match="no_such_option"):
            run_script(conn, split_script(script))
        notices = run_script(conn, split_script(script), tolerant=True)
        options = dict(
            conn.execute(
                "SELECT relname, reloptions FROM pg_class WHERE relname IN ('t', 't_a')"
            ).fetchall()
        )
    assert options == {"t": ["fillfactor=70", "autovacuum_enabled=false"], "t_a": ["fillfactor=80"]}
    assert [n.removesuffix(" (the sandbox's PostgreSQL 18 does not know it)") for n in notices] == [
        "dropped storage option no_such_option on t",
        "dropped storage option other_unknown on t_a",
        "dropped storage option third_unknown on t",
    ]


def test_split_keeps_begin_atomic_bodies_whole_as_psql_does() -> None:
    script = (
        "CREATE OR REPLACE FUNCTION f(x int DEFAULT (1)) RETURNS int LANGUAGE sql\n"
        "BEGIN ATOMIC\n  SELECT CASE WHEN x > 0 THEN 1 END;\n  SELECT 2;\nEND;\n"
        "CREATE PROCEDURE p(a int) BEGIN ATOMIC INSERT INTO t VALUES (a); END; BEGIN;\n"
        'CREATE TABLE begin_end ("begin" int); COMMIT;\n'
    )
    assert [s.sql.split("\n")[0] for s in split_script(script)] == [
        "CREATE OR REPLACE FUNCTION f(x int DEFAULT (1)) RETURNS int LANGUAGE sql",
        "CREATE PROCEDURE p(a int) BEGIN ATOMIC INSERT INTO t VALUES (a); END",
        "BEGIN",
        'CREATE TABLE begin_end ("begin" int)',
        "COMMIT",
    ]


def test_a_target_statement_the_sandbox_rejects_is_named_not_numbered(box: Sandbox) -> None:
    from migagent.tools.sandbox import load_error

    dump = "CREATE TABLE a (id int);\n\nCREATE VIEW v AS\n  SELECT nope FROM a;\n"
    with box.scratch() as db, db.connect(autocommit=True) as conn:
        assert run_script(conn, split_script("SET no_such_setting = 1;"), tolerant=True) == [
            "dropped SET no_such_setting (the sandbox's PostgreSQL 18 does not know the setting)"
        ]
        with pytest.raises(StatementFailed) as raised:
            run_script(conn, split_script(dump), tolerant=True)
    error = load_error(raised.value, "postgresql://app@prod/shop", tolerant=True)
    assert str(error) == (
        "cannot copy the schema of postgresql://app@prod/shop into the sandbox: "
        'CREATE VIEW v AS SELECT nope FROM a: column "nope" does not exist. '
        "Set MIGAGENT_SANDBOX_URL (or --sandbox-url) to a server of the target's version"
    )


def test_notices_fold_one_option_dropped_from_many_columns() -> None:
    from migagent.tools.sqlscript import summarize_notices

    why = "(the sandbox's PostgreSQL 18 does not know it)"
    notices = [f"dropped column option pg_attver on public.t.c{i} {why}" for i in range(5)]
    notices.insert(2, "skipped extension adminpack (...)")
    assert summarize_notices(notices) == [
        "dropped column option pg_attver on 5 columns: public.t.c0, public.t.c1, public.t.c2"
        f" and 2 more {why}",
        "skipped extension adminpack (...)",
    ]
    assert summarize_notices(notices[:1]) == notices[:1]


@pytest.mark.parametrize(
    ("statement", "what"),
    [
        ("COPY t FROM PROGRAM 'touch {marker}'", "runs a program"),
        ("COPY t TO '{marker}'", "reads or writes the file"),
        ("COPY (SELECT 1) TO PROGRAM 'touch {marker}'", "runs a program"),
    ],
)
def test_server_side_copy_in_a_schema_file_is_refused(sandbox, tmp_path, statement, what):
    from migagent.errors import UsageError

    marker = tmp_path / "pwned"
    path = tmp_path / "schema.sql"
    path.write_text("CREATE TABLE t (a int);\n" + statement.format(marker=marker) + ";\n")
    with pytest.raises(UsageError, match=f"line 2: this COPY {what}"):
        sandbox.template_from_file(path)
    assert not marker.exists()
