"""Attacks a model could make through the tools that run its SQL and its Python (issue 18).

Every attack runs for real, on every sandbox server (`sandbox` fixture: the
embedded PostgreSQL 18 and, with MIGAGENT_TEST_SERVER_URL, PostgreSQL 15), and
the test checks that the damage did not happen (the file, the row, the
database), not only that an error came back. Add an attack here when one is
found.
"""

from __future__ import annotations

import os
import secrets
import textwrap
import time
from pathlib import Path

import psycopg
import pytest

from migagent.agent.toolbox import Toolbox
from migagent.cli import main
from migagent.tools import fence, pgurl
from migagent.tools.check import check_project
from migagent.tools.sandbox import SCRATCH_PREFIX, Sandbox
from migagent.tools.verify import RevisionSource, StartingPoint, verify_revision
from migagent.tools.verify import fenced as fenced_mod
from migagent.tools.verify.fenced import verify_untrusted
from migagent.tools.verify.static_check import check_source

# slow: about 80 s on 2 cores: each attack runs a revision in a fenced child process
pytestmark = pytest.mark.slow

SCHEMA = """
CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL);
CREATE VIEW item_names AS SELECT name FROM items;
INSERT INTO items VALUES (1, 'a'), (2, 'b');
"""


def revision(upgrade: str, downgrade: str = "pass", *, top: str = "") -> str:
    """A revision file around these bodies (indented for you)."""

    def body(code: str) -> str:
        return textwrap.indent(textwrap.dedent(code).strip("\n"), "    ")

    return (
        "from alembic import op\nimport sqlalchemy as sa\n"
        f"{textwrap.dedent(top)}\n"
        'revision = "x1"\ndown_revision = None\n\n'
        f"def upgrade():\n{body(upgrade)}\n\n"
        f"def downgrade():\n{body(downgrade)}\n"
    )


GOOD = revision(
    """
    op.execute("CREATE EXTENSION IF NOT EXISTS pgcrypto")
    op.add_column("items", sa.Column("digest", sa.Text(), nullable=True))
    op.execute("UPDATE items SET digest = encode(digest(name, 'sha256'), 'hex')")
    """,
    """
    op.drop_column("items", "digest")
    op.execute("DROP EXTENSION pgcrypto")
    """,
)


@pytest.fixture
def toolbox(sandbox: Sandbox) -> Toolbox:
    return Toolbox.for_schema_sql(SCHEMA, sandbox=sandbox)


@pytest.fixture
def other_db(sandbox: Sandbox):
    """A database on the sandbox server that is not the scratch copy."""
    name = f"migagent_other_{secrets.token_hex(4)}"
    with sandbox.admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with sandbox.admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def superuser(sandbox: Sandbox) -> str:
    with sandbox.admin() as conn:
        return conn.execute("SELECT current_user").fetchone()[0]


def database_exists(sandbox: Sandbox, name: str) -> bool:
    with sandbox.admin() as conn:
        return bool(
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        )


def leaked_scratch(sandbox: Sandbox, before: set[str]) -> list[str]:
    """Scratch databases made since `before` by this process or its fenced children
    that are still there (other processes share the servers: theirs are not counted)."""
    owners = {os.getpid(), *fenced_mod.recent_children}
    prefixes = tuple(f"{SCRATCH_PREFIX}{pid}_" for pid in owners)
    return sorted(n for n in scratch_names(sandbox) - before if n.startswith(prefixes))


def scratch_names(sandbox: Sandbox) -> set[str]:
    with sandbox.admin() as conn:
        return {
            r[0]
            for r in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s",
                (SCRATCH_PREFIX.replace("_", r"\_") + "%",),
            ).fetchall()
        }


# ============================================================ SQL: run_sql_in_scratch
def refused(result, *words: str) -> None:
    assert not result.ok, result
    assert any(w in (result.error or "") for w in words), result.error


def test_scratch_sql_runs_as_the_fenced_role(toolbox: Toolbox) -> None:
    result = toolbox.run_sql_in_scratch(
        "SELECT current_user = session_user, current_user LIKE 'migagent\\_f\\_%',"
        " pg_has_role(current_user, 'migagent_fence', 'MEMBER'),"
        " (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
    )
    assert result.ok, result.error
    assert result.results[0].rows == [[True, True, True, False]]


def test_copy_to_program_is_refused(toolbox: Toolbox) -> None:
    marker = Path(f"/tmp/pwned_copy_{secrets.token_hex(4)}")
    result = toolbox.run_sql_in_scratch(f"COPY (SELECT 1) TO PROGRAM 'touch {marker}'")
    refused(result, "permission denied", "must be superuser")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        ("COPY items FROM '/etc/passwd'", ("permission denied", "must be superuser")),
        (
            "COPY items TO '/tmp/migagent_pwned_copy_file'",
            ("permission denied", "must be superuser"),
        ),
        ("SELECT pg_read_file('/etc/passwd')", ("permission denied",)),
        ("SELECT pg_ls_dir('.')", ("permission denied",)),
        ("SELECT lo_import('/etc/passwd')", ("permission denied", "must be superuser")),
        ("CREATE EXTENSION dblink", ("permission denied",)),
        ("CREATE EXTENSION IF NOT EXISTS postgres_fdw", ("permission denied",)),
        ("CREATE EXTENSION file_fdw", ("permission denied", "not available")),
        ("CREATE EXTENSION plpython3u", ("permission denied", "not available")),
        (
            "CREATE FUNCTION evil() RETURNS int LANGUAGE c AS 'libc.so.6', 'system'",
            ("permission denied",),
        ),
        ("ALTER SYSTEM SET work_mem = '1MB'", ("permission denied",)),
        ("SET temp_file_limit = -1", ("permission denied",)),
        ("CREATE ROLE migagent_pwned SUPERUSER", ("permission denied", "must be superuser")),
        (f"ALTER ROLE {fence.FENCE_ROLE} SUPERUSER", ("permission denied", "must be superuser")),
        (f"ALTER ROLE {fence.FENCE_ROLE} CREATEDB", ("permission denied",)),
        ("CREATE DATABASE migagent_pwned_db", ("permission denied",)),
        ("SELECT pg_reload_conf()", ("permission denied",)),
        (
            "CREATE EVENT TRIGGER evil ON ddl_command_start EXECUTE FUNCTION pg_catalog.now()",
            ("permission denied", "must be superuser", "must return type"),
        ),
        ("ALTER DATABASE postgres SET work_mem = '1MB'", ("must be owner", "permission denied")),
    ],
)
def test_superuser_powers_are_refused(toolbox: Toolbox, sql: str, words: tuple[str, ...]) -> None:
    refused(toolbox.run_sql_in_scratch(sql), *words)


@pytest.mark.parametrize("command", ["SET ROLE {su}", "SET SESSION AUTHORIZATION {su}"])
def test_becoming_the_superuser_is_refused(
    toolbox: Toolbox, sandbox: Sandbox, command: str
) -> None:
    result = toolbox.run_sql_in_scratch(command.format(su=superuser(sandbox)) + "; SELECT 1")
    refused(result, "permission denied")


def test_dblink_to_the_target_is_refused(toolbox: Toolbox, target_db) -> None:
    url = target_db("CREATE TABLE secrets (v text); INSERT INTO secrets VALUES ('kept');")
    result = toolbox.run_sql_in_scratch(
        "CREATE EXTENSION IF NOT EXISTS dblink;"
        f"SELECT dblink_exec('{pgurl.libpq_url(url)}', 'INSERT INTO secrets VALUES (''pwned'')')"
    )
    refused(result, "permission denied")
    with pgurl.connect(url) as conn:
        assert conn.execute("SELECT v FROM secrets").fetchall() == [("kept",)]


def test_dropping_another_database_is_refused(
    toolbox: Toolbox, sandbox: Sandbox, other_db: str
) -> None:
    result = toolbox.run_sql_in_scratch(f'DROP DATABASE "{other_db}" WITH (FORCE)')
    refused(result, "must be owner", "permission denied")
    assert database_exists(sandbox, other_db)


def test_dropping_another_fenced_scratch_is_refused(toolbox: Toolbox, sandbox: Sandbox) -> None:
    with fence.fenced_scratch(sandbox, toolbox.template) as other:
        result = toolbox.run_sql_in_scratch(f'DROP DATABASE "{other.name}" WITH (FORCE)')
        refused(result, "must be owner", "permission denied")
        assert database_exists(sandbox, other.name)


def test_a_fenced_login_cannot_log_in_elsewhere(sandbox: Sandbox, other_db: str) -> None:
    if not sandbox.embedded:
        pytest.skip("only the embedded server's pg_hba.conf is migagent's to restrict")
    login = fence.create_login(sandbox)
    try:
        for database in (other_db, "postgres", "template1"):
            with pytest.raises(psycopg.OperationalError, match=r"pg_hba\.conf rejects"):
                psycopg.connect(login.url(sandbox, database), connect_timeout=5).close()
    finally:
        fence.drop_login(sandbox, login.name)


def test_a_fenced_session_cannot_reach_another_fenced_copy(sandbox: Sandbox) -> None:
    """Two verifications at once: neither may connect to, nor signal, the other."""
    with (
        fence.fenced_scratch(sandbox) as mine,
        fence.fenced_scratch(sandbox) as theirs,
        psycopg.connect(theirs.url, autocommit=True) as their_conn,
        psycopg.connect(mine.url, autocommit=True) as conn,
    ):
        their_pid = their_conn.info.backend_pid
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            other_url = mine.url.replace(f"/{mine.name}", f"/{theirs.name}")
            psycopg.connect(other_url, connect_timeout=5).close()
        with pytest.raises(psycopg.Error, match=r"permission denied|must be a member"):
            conn.execute("SELECT pg_terminate_backend(%s)", (their_pid,))
        assert their_conn.execute("SELECT 1").fetchone() == (1,)


def test_fenced_logins_are_dropped_with_their_copy(sandbox: Sandbox) -> None:
    with fence.fenced_scratch(sandbox) as db:
        login = db.url.split("//", 1)[1].split(":", 1)[0]
        assert login in fence.logins_of(sandbox, os.getpid())
    assert login not in fence.logins_of(sandbox, os.getpid())


def test_a_granted_membership_is_taken_back(sandbox: Sandbox) -> None:
    """Someone granted the role a server-files role: the next process revokes it."""
    fence.ensure_role(sandbox)
    with sandbox.admin() as conn:
        conn.execute(f"GRANT pg_read_server_files TO {fence.FENCE_ROLE}")
    fence._READY.discard(sandbox.url)
    fence.ensure_role(sandbox)
    with sandbox.admin() as conn:
        member = conn.execute(
            "SELECT pg_has_role(%s, 'pg_read_server_files', 'MEMBER')", (fence.FENCE_ROLE,)
        ).fetchone()[0]
    assert member is False


def test_ordinary_ddl_and_dml_work_in_the_fence(toolbox: Toolbox) -> None:
    result = toolbox.run_sql_in_scratch(
        """
        CREATE EXTENSION IF NOT EXISTS pgcrypto;
        CREATE SCHEMA audit;
        CREATE TABLE audit.log (id bigint GENERATED ALWAYS AS IDENTITY, at timestamptz);
        INSERT INTO items VALUES (3, 'c');
        ALTER TABLE items ADD COLUMN price numeric;
        UPDATE items SET price = 1;
        CREATE INDEX items_name ON items (name);
        CREATE FUNCTION up(t text) RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN upper(t); END $$;
        DROP VIEW item_names;
        CREATE TEMP TABLE scratchpad (i int);
        SELECT count(*), max(up(name)), encode(digest('x', 'sha256'), 'hex') <> '' FROM items;
        DROP TABLE items CASCADE;
        """
    )
    assert result.ok, (result.error, result.failed_statement)
    assert result.results[-2].rows == [[3, "C", True]]


def test_ordinary_revision_passes_through_verify_untrusted(sandbox: Sandbox) -> None:
    report = verify_untrusted(GOOD, StartingPoint.schema_sql(SCHEMA), sandbox=sandbox, rows=10)
    assert report.passed, report.reasons
    assert report.after is not None and "public.items" in report.after.tables
    assert any("digest" in s.sql for s in report.upgrade)


# ============================================================ Python: static check
STATIC_ATTACKS = {
    "import os": ("import os\nos.system('touch /tmp/pwned_x')", "import os is not allowed"),
    "from os": ("from os import system", "import os is not allowed"),
    "subprocess": ("import subprocess", "import subprocess is not allowed"),
    "__import__": ("__import__('os').system('id')", "__import__ is not allowed"),
    "open": ("open('/etc/passwd').read()", "open is not allowed"),
    "eval": ("eval('1')", "eval is not allowed"),
    "exec": ("exec('import os')", "exec is not allowed"),
    "compile": ("compile('1', 'x', 'eval')", "compile is not allowed"),
    "getattr": ("getattr(op, 'get_bind')", "getattr is not allowed"),
    "globals": ("globals()['__builtins__']", "globals is not allowed"),
    "vars": ("vars(sa)", "vars is not allowed"),
    "breakpoint": ("breakpoint()", "breakpoint is not allowed"),
    "subclasses": ("().__class__.__subclasses__()", "the attribute .__class__ is not allowed"),
    "globals attr": ("upgrade.__globals__", "the attribute .__globals__ is not allowed"),
    "builtins": ("__builtins__", "__builtins__ is not allowed"),
    "frames": ("(x for x in []).gi_frame.f_back", "gi_frame is not allowed"),
    "create_engine": ("sa.create_engine('postgresql://x@h/d')", "create_engine is not allowed"),
    "from sqlalchemy import create_engine": (
        "from sqlalchemy import create_engine",
        "create_engine is not allowed",
    ),
    "engine_from_config": ("sa.engine_from_config({})", "engine_from_config is not allowed"),
    "new connection": ("op.get_bind().engine.connect()", "the attribute .connect"),
    "driver": ("op.get_bind().dialect.dbapi", "the attribute .dbapi is not allowed"),
    "sqlalchemy.engine": ("import sqlalchemy.engine", "import sqlalchemy.engine is not allowed"),
    "alembic.command": ("from alembic import command", "import alembic.command is not allowed"),
    "pickle": ("import pickle", "import pickle is not allowed"),
    "PickleType": ("sa.PickleType()", "PickleType is not allowed"),
    "format walk": ("'{0.__class__}'.format(1)", "format field"),
    "typing eval": ("import typing; typing.get_type_hints(upgrade)", "get_type_hints"),
    "relative import": ("from . import sibling", "relative imports are not allowed"),
    "importlib": ("import importlib", "import importlib is not allowed"),
    "ctypes": ("import ctypes", "import ctypes is not allowed"),
    "sys": ("import sys", "import sys is not allowed"),
    "socket": ("import socket", "import socket is not allowed"),
    "os through uuid": ("import uuid; uuid.os.system('id')", "the attribute .os (a module)"),
    "types through typing": ("import typing; typing.types.CodeType", "the attribute .types"),
    "builtins through enum": (
        "import enum; enum.bltns.open('/etc/passwd')",
        "the attribute .bltns",
    ),
    "format walks frames": ('"{0.gi_frame.f_back}".format(x)', "reaches .gi_frame"),
    "format reaches the engine": ('"{0.engine.url!r}".format(x)', "reaches .engine"),
    "computed format string": (
        '("{0." + "gi_frame}").format(x)',
        "str.format on a computed string is not allowed",
    ),
    "alembic.command attribute": (
        "import alembic; alembic.command.upgrade",
        "alembic.command is not allowed",
    ),
    "module passed around": ("import alembic; x = alembic", "may only be used as alembic.name"),
    "util through orm": ("sa.orm.session.util", "sqlalchemy.orm.session.util is not allowed"),
    "platform through uuid": (
        "import uuid; uuid.platform.system()",
        "uuid.platform is not allowed",
    ),
    "codecs through json": (
        "import json; json.codecs.open('/etc/passwd')",
        "the attribute .codecs",
    ),
}


@pytest.mark.parametrize("name", sorted(STATIC_ATTACKS))
def test_static_check_names_the_line(name: str) -> None:
    code, message = STATIC_ATTACKS[name]
    source = revision("pass", top=code)
    violations = check_source(source)
    assert violations, name
    assert any(message in v.message for v in violations), [str(v) for v in violations]
    line = source.splitlines().index(code.splitlines()[0]) + 1
    assert violations[0].line == line
    assert str(violations[0]).startswith(f"line {line}: ")


@pytest.mark.parametrize(
    "code",
    [
        "from alembic import op\nimport sqlalchemy as sa\nfrom sqlalchemy.dialects import postgresql",
        "from sqlalchemy.dialects.postgresql import JSONB, UUID, ENUM",
        "import datetime as dt, decimal, uuid, enum, json, re, math, textwrap\n"
        "from collections import OrderedDict\nfrom typing import Any",
        "from __future__ import annotations",
        "from sqlalchemy.sql import table, column",
        "from sqlalchemy import orm\nfrom sqlalchemy.orm import Session, declarative_base",
        "def batches(n: int = 1000):\n    yield from range(0, 10, n)",
        "class Status(enum.Enum):\n    A = 'a'\n    def __init__(self, v):\n        self.v = v",
        'x = f"{__name__}"',
        "x = '{0}'.format(1)",
        "x = 'UPDATE {t} SET n = {n[0]}'.format(t='items', n=[1])",
        "x = sa.text(\"SELECT '{a,b}'::text[], '{\\\"config\\\": 1}'::jsonb\")",
        "x = sa.types.Integer()\nfrom sqlalchemy.dialects import postgresql\ny = postgresql.types",
        "def f(row):\n    return row.url, row.config, row.code, row.platform, row.system",
        "try:\n    pass\nexcept sa.exc.IntegrityError:\n    pass",
        "from sqlalchemy import orm\nBase = orm.declarative_base()\n"
        "class Item(Base):\n    __tablename__ = 'items'\n    __table_args__ = {'schema': 'public'}\n"
        "    id = sa.Column(sa.Integer, primary_key=True)",
    ],
)
def test_static_check_allows_what_revisions_use(code: str) -> None:
    source = revision(
        """
        bind = op.get_bind()
        rows = bind.execute(sa.text("SELECT id FROM items")).fetchall()
        op.bulk_insert(sa.table("items", sa.column("id")), [{"id": r.id + 10} for r in rows])
        with op.batch_alter_table("items") as batch:
            batch.add_column(sa.Column("x", sa.Integer))
        if bind.dialect.name == "postgresql":
            op.execute("SELECT 1")
        """,
        top="import enum\n" + code,
    )
    assert check_source(source) == []


def test_the_repository_revisions_pass_the_static_check() -> None:
    root = Path(__file__).resolve().parent
    files = [p for p in root.rglob("*.py") if "versions" in p.parts or "lint_corpus" in p.parts]
    checked = 0
    for path in files:
        text = path.read_text()
        if "def upgrade" not in text:
            continue
        checked += 1
        assert check_source(text) == [], path
    assert checked >= 5


# ============================================================ Python: verify_untrusted
def test_import_os_fails_before_anything_runs(sandbox: Sandbox) -> None:
    marker = f"/tmp/pwned_{secrets.token_hex(4)}"
    source = revision(f"os.system('touch {marker}')", top=f"import os\nos.system('touch {marker}')")
    report = verify_untrusted(source, StartingPoint.schema_sql(SCHEMA), sandbox=sandbox)
    assert not report.passed
    assert report.failure is not None and report.failure.step == "load"
    assert report.failure.message.startswith("line 3: import os is not allowed in a revision")
    assert "allowed: alembic, alembic_utils, sqlalchemy" in report.failure.message
    assert report.failure.location == "revision.py:3"
    assert not Path(marker).exists()


@pytest.mark.parametrize(
    "body",
    [
        "__import__('os').system('touch /tmp/pwned_dunder')",
        "open('/etc/passwd').read()",
        "().__class__.__bases__[0].__subclasses__()",
    ],
)
def test_escapes_fail_verification(sandbox: Sandbox, body: str) -> None:
    report = verify_untrusted(revision(body), StartingPoint.schema_sql(SCHEMA), sandbox=sandbox)
    assert not report.passed and report.failure is not None
    assert report.failure.step == "load" and report.failure.message.startswith("line ")
    assert not Path("/tmp/pwned_dunder").exists()


def test_create_engine_to_the_target_fails_and_the_target_is_unchanged(
    sandbox: Sandbox, target_db
) -> None:
    url = target_db(
        "CREATE TABLE accounts (id int, v text); INSERT INTO accounts VALUES (1, 'kept');"
    )
    body = f"""
        engine = sa.create_engine({pgurl.sqlalchemy_url(url)!r})
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO accounts VALUES (2, 'pwned')"))
            conn.execute(sa.text("DROP TABLE accounts"))
    """
    report = verify_untrusted(revision(body), StartingPoint.schema_sql(SCHEMA), sandbox=sandbox)
    assert not report.passed and "create_engine is not allowed" in report.failure.message
    with pgurl.connect(url) as conn:
        assert conn.execute("SELECT id, v FROM accounts").fetchall() == [(1, "kept")]


def test_the_child_environment_has_no_credentials(monkeypatch, tmp_path) -> None:
    for name, value in {
        "MIGAGENT_DATABASE_URL": "postgresql://u:secret@target/db",
        "DATABASE_URL": "postgresql://u:secret@target/db",
        "PGPASSWORD": "secret",
        "PGHOST": "target",
        "ANTHROPIC_API_KEY": "sk-secret",
        "AWS_SECRET_ACCESS_KEY": "secret",
    }.items():
        monkeypatch.setenv(name, value)
    env = fenced_mod._child_env(str(tmp_path), "migagent-fenced-test")
    assert "secret" not in " ".join(env.values())
    assert not {"MIGAGENT_DATABASE_URL", "DATABASE_URL", "PGPASSWORD", "PGHOST"} & set(env)
    assert env["HOME"] == str(tmp_path) and env["PGPASSFILE"] == os.devnull


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("while True:\n    pass", "upgrade"),
        ('op.execute("SET statement_timeout = 0")\nop.execute("SELECT pg_sleep(3600)")', "upgrade"),
    ],
)
def test_a_revision_that_never_ends_is_stopped(sandbox: Sandbox, body: str, where: str) -> None:
    before = scratch_names(sandbox)
    t0 = time.perf_counter()
    report = verify_untrusted(
        revision(body), StartingPoint.schema_sql(SCHEMA), sandbox=sandbox, timeout_s=5
    )
    elapsed = time.perf_counter() - t0
    assert not report.passed and report.failure is not None
    assert report.failure.step == where
    assert report.failure.message == (
        "the revision ran longer than 5 s (limit MIGAGENT_REVISION_TIMEOUT)"
    )
    assert 5 <= elapsed < 20
    assert leaked_scratch(sandbox, before) == []
    assert fence.logins_of(sandbox, fenced_mod.recent_children[-1]) == []


def test_a_module_that_never_finishes_importing_is_stopped(sandbox: Sandbox, monkeypatch) -> None:
    monkeypatch.setenv(fenced_mod.TIMEOUT_ENV, "3")
    report = verify_untrusted(
        revision("pass", top="while True:\n    pass"),
        StartingPoint.schema_sql(SCHEMA),
        sandbox=sandbox,
    )
    assert not report.passed and report.failure.step == "load"
    assert (
        report.failure.message
        == "the revision ran longer than 3 s (limit MIGAGENT_REVISION_TIMEOUT)"
    )


def test_the_timeout_comes_from_the_environment(monkeypatch) -> None:
    monkeypatch.delenv(fenced_mod.TIMEOUT_ENV, raising=False)
    assert fenced_mod.revision_timeout_s() == fenced_mod.DEFAULT_TIMEOUT_S == 120
    monkeypatch.setenv(fenced_mod.TIMEOUT_ENV, "7.5")
    assert fenced_mod.revision_timeout_s() == 7.5
    monkeypatch.setenv(fenced_mod.TIMEOUT_ENV, "soon")
    from migagent.errors import UsageError

    with pytest.raises(UsageError, match="not a number of seconds"):
        fenced_mod.revision_timeout_s()


# ============================================================ BaseException
BASE_EXCEPTIONS = {
    "SystemExit(0)": ("raise SystemExit(0)", "SystemExit(0)"),
    "sys-less exit": ("raise SystemExit", "SystemExit()"),
    "KeyboardInterrupt": ("raise KeyboardInterrupt", "KeyboardInterrupt()"),
    "GeneratorExit": ("raise GeneratorExit('x')", "GeneratorExit('x')"),
    "custom": ("raise Stop('why')", "Stop('why')"),
}
STOP = "class Stop(BaseException):\n    pass\n"


@pytest.mark.parametrize("fenced", [False, True], ids=["in-process", "fenced"])
@pytest.mark.parametrize("name", sorted(BASE_EXCEPTIONS))
def test_base_exceptions_in_upgrade_fail_verification(
    sandbox: Sandbox, name: str, fenced: bool
) -> None:
    raise_it, shown = BASE_EXCEPTIONS[name]
    source = revision(f'op.execute("DROP TABLE items CASCADE")\n{raise_it}', top=STOP)
    start = StartingPoint.schema_sql(SCHEMA)
    before = scratch_names(sandbox)
    if fenced:
        report = verify_untrusted(source, start, sandbox=sandbox)
    else:
        report = verify_revision(RevisionSource.from_text(source), start, sandbox=sandbox)
    assert not report.passed
    assert report.failure is not None and report.failure.step == "upgrade"
    assert report.failure.message == f"the revision raised {shown} in upgrade()"
    assert report.failure.location and report.failure.location.endswith("in upgrade()")
    assert leaked_scratch(sandbox, before) == []


@pytest.mark.parametrize("fenced", [False, True], ids=["in-process", "fenced"])
def test_base_exception_in_downgrade_fails_verification(sandbox: Sandbox, fenced: bool) -> None:
    source = revision('op.add_column("items", sa.Column("x", sa.Integer))', "raise SystemExit(1)")
    start = StartingPoint.schema_sql(SCHEMA)
    report = (
        verify_untrusted(source, start, sandbox=sandbox)
        if fenced
        else verify_revision(RevisionSource.from_text(source), start, sandbox=sandbox)
    )
    assert not report.passed and report.failure.step == "downgrade"
    assert report.failure.message == "the revision raised SystemExit(1) in downgrade()"


@pytest.mark.parametrize("fenced", [False, True], ids=["in-process", "fenced"])
@pytest.mark.parametrize(
    "raise_it", ["raise SystemExit(0)", "raise Stop('top')", "raise KeyboardInterrupt"]
)
def test_base_exceptions_at_module_top_level_fail_loading(
    sandbox: Sandbox, fenced: bool, raise_it: str
) -> None:
    source = revision("pass", top=STOP + raise_it)
    start = StartingPoint.schema_sql(SCHEMA)
    report = (
        verify_untrusted(source, start, sandbox=sandbox)
        if fenced
        else verify_revision(RevisionSource.from_text(source), start, sandbox=sandbox)
    )
    assert not report.passed and report.failure.step == "load"
    assert report.failure.message.startswith("the revision raised ")
    assert report.failure.message.endswith(" at module top level")


def test_cli_verify_exits_1_for_system_exit(sandbox: Sandbox, tmp_path: Path, capsys) -> None:
    path = tmp_path / "r.py"
    path.write_text(revision('op.execute("DROP TABLE items CASCADE")\nraise SystemExit(0)'))
    schema = tmp_path / "s.sql"
    schema.write_text(SCHEMA)
    argv = ["verify", str(path), "--schema-file", str(schema)]
    if not sandbox.embedded:
        argv += ["--sandbox-url", sandbox.url]
    with pytest.raises(SystemExit) as info:
        main(argv)
    out = capsys.readouterr().out
    assert info.value.code == 1, out
    assert "the revision raised SystemExit(0) in upgrade()" in out


def test_check_fails_a_revision_that_exits(sandbox: Sandbox, tmp_path: Path) -> None:
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (tmp_path / "migrations" / "env.py").write_text("# not run by migagent check\n")
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    (versions / "a1_create.py").write_text(
        revision(
            'op.create_table("t", sa.Column("id", sa.Integer, primary_key=True))',
            'op.drop_table("t")',
        ).replace('revision = "x1"', 'revision = "a1"')
    )
    (versions / "a2_exit.py").write_text(
        revision('op.drop_table("t")\nraise SystemExit(0)', "pass")
        .replace('revision = "x1"', 'revision = "a2"')
        .replace("down_revision = None", 'down_revision = "a1"')
    )
    report = check_project(tmp_path, sandbox=sandbox, lint=False)
    assert not report.passed and report.exit_code == 1
    problems = " ".join(report.all_problems)
    assert "the revision raised SystemExit(0) in upgrade()" in problems, problems


def test_a_target_starting_point_never_reaches_the_child(sandbox: Sandbox, target_db) -> None:
    """The parent copies the target's schema; the child gets a template name, not the URL."""
    url = target_db(SCHEMA)
    report = verify_untrusted(GOOD, StartingPoint.target(url), sandbox=sandbox, rows=5)
    assert report.passed, report.reasons
    assert pgurl.redact(url) in report.starting_point
    with pgurl.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == 2
        columns = conn.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'items'"
        ).fetchone()[0]
    assert columns == 2


def test_a_real_ctrl_c_still_interrupts_verify(sandbox: Sandbox) -> None:
    """Only the revision's own KeyboardInterrupt is a failed step; SIGINT stops migagent."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    source = revision("import time\ntime.sleep(20)")
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(KeyboardInterrupt):
            verify_revision(
                RevisionSource.from_text(source), StartingPoint.schema_sql(SCHEMA), sandbox=sandbox
            )
    finally:
        timer.cancel()
    assert time.perf_counter() - t0 < 15


AUDIT_PROBE = """
import os, subprocess, sys, tempfile
from migagent.tools.verify.fenced import install_audit_hook
private = tempfile.mkdtemp()
install_audit_hook(private)
results = []
for name, attempt in [
    ("system", lambda: os.system("true")),
    ("popen", lambda: subprocess.run(["true"])),
    ("write", lambda: open("/tmp/migagent_pwned_audit", "w")),
    ("kill", lambda: os.kill(os.getppid(), 0)),
    ("remove", lambda: os.remove("/tmp/migagent_pwned_audit")),
    ("ctypes", lambda: __import__("ctypes").CDLL(None)),
]:
    try:
        attempt()
        results.append(name + " ran")
    except PermissionError as exc:
        results.append(name + " refused" if "migagent fence" in str(exc) else name + " ?")
with open(os.path.join(private, "ok"), "w") as f:  # its own folder: allowed
    f.write("x")
open("/etc/hostname").read()  # reading: allowed
print(",".join(results))
"""


def test_the_childs_audit_hook_refuses_processes_writes_and_native_code() -> None:
    """The second layer: what slips past the static check still cannot spawn or write."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", AUDIT_PROBE], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().split(",") == [
        "system refused",
        "popen refused",
        "write refused",
        "kill refused",
        "remove refused",
        "ctypes refused",
    ]
    assert not Path("/tmp/migagent_pwned_audit").exists()


def test_a_sandbox_user_without_powers_is_its_own_fence(sandbox: Sandbox) -> None:
    """No superuser, no CREATEROLE: nothing to fence off, its own scratch copies are used."""
    name = f"migagent_plain_{secrets.token_hex(3)}"
    with sandbox.admin() as conn:
        conn.execute(f"CREATE ROLE {name} LOGIN CREATEDB PASSWORD 'plain'")
    try:
        parts = sandbox.url.split("@", 1)
        plain = Sandbox(url=f"postgresql://{name}:plain@{parts[1]}", embedded=sandbox.embedded)
        assert fence.fence_available(plain) is False
        own_schema = f"{SCHEMA}\n-- {name}"  # not a template some superuser built and owns
        box = Toolbox.for_schema_sql(own_schema, sandbox=plain)
        result = box.run_sql_in_scratch("SELECT current_user, count(*) FROM items")
        assert result.ok, result.error
        assert result.results[0].rows == [[name, 2]]
        refused(
            box.run_sql_in_scratch("COPY (SELECT 1) TO PROGRAM 'true'"),
            "permission denied",
            "must be superuser",
        )
        report = verify_untrusted(GOOD, StartingPoint.schema_sql(own_schema), sandbox=plain, rows=5)
        assert report.passed, report.reasons
    finally:
        with sandbox.admin() as conn:
            for (db,) in conn.execute(
                "SELECT datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba"
                " WHERE r.rolname = %s",
                (name,),
            ).fetchall():
                conn.execute(f'ALTER DATABASE "{db}" IS_TEMPLATE false')
                conn.execute(f'DROP DATABASE "{db}" WITH (FORCE)')
            conn.execute(f"DROP ROLE {name}")


def test_the_fence_owns_the_starting_schemas_extensions(sandbox: Sandbox) -> None:
    """A migration that drops or replaces an extension the schema had still verifies."""
    schema = "CREATE EXTENSION IF NOT EXISTS citext; CREATE TABLE u (email citext);"
    box = Toolbox.for_schema_sql(schema, sandbox=sandbox)
    result = box.run_sql_in_scratch(
        "ALTER TABLE u ALTER COLUMN email TYPE text; DROP EXTENSION citext;"
        " CREATE EXTENSION citext; SELECT count(*) FROM pg_extension WHERE extname = 'citext'"
    )
    assert result.ok, result.error
    assert result.results[-1].rows == [[1]]
    refused(box.run_sql_in_scratch("DROP EXTENSION plpgsql"), "must be owner", "permission denied")


def test_fenced_templates_take_no_connections(sandbox: Sandbox) -> None:
    """A fenced login that reached a fenced template could poison every later copy."""
    box = Toolbox.for_schema_sql(SCHEMA, sandbox=sandbox)
    fenced = fence.fenced_template(sandbox, box.template)
    with sandbox.admin() as conn:
        allowed = conn.execute(
            "SELECT datallowconn FROM pg_database WHERE datname = %s", (fenced,)
        ).fetchone()[0]
    assert allowed is False
    assert box.run_sql_in_scratch("SELECT count(*) FROM items").results[0].rows == [[2]]


def test_a_memory_bomb_is_a_failed_step(sandbox: Sandbox) -> None:
    report = verify_untrusted(
        revision("x = bytearray(64 * 1024**3)"), StartingPoint.schema_sql(SCHEMA), sandbox=sandbox
    )
    assert not report.passed and report.failure.step == "upgrade"
    assert "MemoryError" in report.failure.message
