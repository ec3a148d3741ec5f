"""Break-it suite: attacks on migagent's claims, as a user and as an attacker would.

Every test runs on real databases: targets are `breakit_*` databases on the
PostgreSQL 15 server at 127.0.0.1:5432 (MIGAGENT_TEST_SERVER_URL overrides), the
sandbox is migagent's own. The truth of "would this revision succeed on the
target" is found by applying its SQL to a *copy* of the target
(CREATE DATABASE ... TEMPLATE), never to the target itself.

Tests marked xfail(strict=True) are findings: they fail on the current code.
Unmarked tests are claims that held under a new angle.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

# slow: about 260 s on 2 cores: every finding drafts or proves on a target and a scratch copy
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
MIGAGENT = str(Path(sys.executable).parent / "migagent")
SERVER = os.environ.get("BREAKIT_SERVER_URL", "postgresql://postgres@127.0.0.1:5432")
PSQL = ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"]


# --------------------------------------------------------------------------- helpers


def _url(db: str, user: str | None = None) -> str:
    if user is None:
        return f"{SERVER}/{db}"
    return re.sub(r"//[^@/]*@", f"//{user}@", SERVER, count=1) + f"/{db}"


def psql(db: str, sql: str, check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run(
        [*PSQL, "-d", _url(db)], input=sql, text=True, capture_output=True, timeout=300
    )
    if check and r.returncode:
        raise RuntimeError(f"psql on {db} failed: {r.stderr}")
    return r


def _drop(db: str) -> None:
    psql("postgres", f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)', check=False)


class Targets:
    """Factory for breakit_* target databases, dropped at the end."""

    def __init__(self) -> None:
        self.made: list[str] = []

    def make(self, sql: str, tag: str = "t") -> str:
        db = f"breakit_{tag}_{secrets.token_hex(4)}"
        _drop(db)
        psql("postgres", f'CREATE DATABASE "{db}"')
        self.made.append(db)
        psql(db, sql)
        psql(db, "ANALYZE")
        return db

    def cleanup(self) -> None:
        for db in self.made:
            _drop(db)
            _drop(db + "_copy")


@pytest.fixture(scope="module")
def targets():
    t = Targets()
    yield t
    t.cleanup()


def write_revision(tmp_path: Path, ups: list[str], downs: list[str] = ()) -> Path:
    rev = uuid.uuid4().hex[:12]
    up = "\n".join(f"    op.execute({s!r})" for s in ups) or "    pass"
    down = "\n".join(f"    op.execute({s!r})" for s in downs) or "    pass"
    path = tmp_path / f"rev_{rev}.py"
    path.write_text(
        f'"""breakit probe\n\nRevision ID: {rev}\nRevises:\n"""\n'
        "from alembic import op\n\n"
        f'revision = "{rev}"\ndown_revision = None\nbranch_labels = None\ndepends_on = None\n\n\n'
        f"def upgrade() -> None:\n{up}\n\n\ndef downgrade() -> None:\n{down}\n"
    )
    return path


def truth(db: str, ups: list[str]) -> tuple[bool, str]:
    """Does the SQL succeed on a copy of the target? (The target itself is untouched.)"""
    copy = db + "_copy"
    _drop(copy)
    psql("postgres", f'CREATE DATABASE "{copy}" TEMPLATE "{db}"')
    try:
        r = psql(copy, "BEGIN;\n" + ";\n".join(ups) + ";\nCOMMIT;\n", check=False)
        return r.returncode == 0, r.stderr.strip()
    finally:
        _drop(copy)


def migagent(*args: str, timeout: int = 600, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [MIGAGENT, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=kw.pop("cwd", None),
        **kw,
    )


def verify(
    db: str, path: Path, *extra: str, user: str | None = None
) -> subprocess.CompletedProcess:
    return migagent("verify", str(path), "--db", _url(db, user), "--no-round-trip", *extra)


def dump(db: str) -> str:
    r = subprocess.run(
        ["pg_dump", "--no-sync", "-d", _url(db)], capture_output=True, text=True, check=True
    )
    return "\n".join(
        line
        for line in r.stdout.splitlines()
        if not line.startswith(("\\restrict", "\\unrestrict"))
    )


def slots() -> set[str]:
    out = psql("postgres", "SELECT slot_name FROM pg_replication_slots").stdout
    return set(out.split())


def drop_breakit_slots() -> None:
    psql(
        "postgres",
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
        "WHERE slot_name LIKE 'breakit%' AND NOT active",
        check=False,
    )


def server_objects() -> dict:
    q = {
        "slots": "SELECT coalesce(string_agg(slot_name, ',' ORDER BY slot_name), '') FROM pg_replication_slots",
        "roles": "SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles"
        " WHERE rolname NOT LIKE 'migagent\\_f\\_%'",  # the fence's own transient logins
        "lo": "SELECT count(*) FROM pg_largeobject_metadata",
        "collations": "SELECT count(*) FROM pg_collation",
    }
    return {k: psql("postgres", v).stdout.strip() for k, v in q.items()}


# --------------------------------------------------------------------------- claim 1: verdicts

# (setup SQL, upgrade statements): every one FAILS on the target, and migagent reports PASSED.
FALSE_PASSES = {
    "generated_column_division_by_zero": (
        "CREATE TABLE t(a int, b int); INSERT INTO t VALUES (1, 1), (1, 0);",
        ["ALTER TABLE t ADD COLUMN q int GENERATED ALWAYS AS (a / b) STORED"],
    ),
    "exclusion_constraint_on_duplicates": (
        "CREATE TABLE t(a int); INSERT INTO t VALUES (1), (1);",
        ["ALTER TABLE t ADD CONSTRAINT t_ex EXCLUDE USING btree (a WITH =)"],
    ),
    "alter_type_to_domain_with_check": (
        "CREATE DOMAIN posint AS int CHECK (VALUE > 0);"
        " CREATE TABLE t(v int); INSERT INTO t VALUES (1), (-1);",
        ["ALTER TABLE t ALTER COLUMN v TYPE posint"],
    ),
    "alter_domain_add_check": (
        "CREATE DOMAIN d AS int; CREATE TABLE t(v d); INSERT INTO t VALUES (1), (-1);",
        ["ALTER DOMAIN d ADD CONSTRAINT d_pos CHECK (VALUE > 0)"],
    ),
    "varchar_array_narrowing": (
        "CREATE TABLE t(v varchar(50)[]); INSERT INTO t VALUES (ARRAY['abc']), (ARRAY['abcdefghij']);",
        ["ALTER TABLE t ALTER COLUMN v TYPE varchar(5)[]"],
    ),
    "varbit_narrowing": (
        "CREATE TABLE t(v varbit); INSERT INTO t VALUES (B'101'), (B'1010101');",
        ["ALTER TABLE t ALTER COLUMN v TYPE bit varying(4)"],
    ),
    "domain_over_short_varchar": (
        "CREATE DOMAIN short AS varchar(5);"
        " CREATE TABLE t(v text); INSERT INTO t VALUES ('abc'), ('abcdefghij');",
        ["ALTER TABLE t ALTER COLUMN v TYPE short"],
    ),
}


FIXED_FALSE_PASSES = {"alter_type_to_domain_with_check"}  # the probe's data error fails the proof
FALSE_PASS_REASON = (
    "false pass: the statement fails on the target's rows (generated column expression, "
    "exclusion constraint, domain CHECK, array/varbit/domain narrowing are not preflighted or are "
    "preflighted with an explicit, truncating cast) but verify --db reports PASSED, exit 0"
)


@pytest.mark.parametrize(
    "case",
    [
        c
        if c in FIXED_FALSE_PASSES
        else pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=FALSE_PASS_REASON))
        for c in sorted(FALSE_PASSES)
    ],
)
def test_false_pass_data_dependent_statement(targets, tmp_path, case):
    setup, ups = FALSE_PASSES[case]
    db = targets.make(setup, "fp")
    ok, err = truth(db, ups)
    assert not ok, "the revision must fail on a copy of the target"
    r = verify(db, write_revision(tmp_path, ups))
    assert r.returncode != 0, (
        f"verify passed a revision that fails on the target ({err}):\n{r.stdout}"
    )


def test_preflight_error_on_target_is_not_a_pass(targets, tmp_path):
    db = targets.make(
        "CREATE DOMAIN posint AS int CHECK (VALUE > 0); CREATE TABLE t(v int); INSERT INTO t VALUES (1), (-1);",
        "fp",
    )
    r = verify(db, write_revision(tmp_path, ["ALTER TABLE t ALTER COLUMN v TYPE posint"]))
    assert "violates check constraint" in r.stdout
    assert "PASSED" not in r.stdout and r.returncode != 0


@pytest.fixture(scope="module")
def rls_target(targets):
    role = "breakit_ro_" + secrets.token_hex(3)
    db = targets.make(
        "CREATE TABLE t(id int, owner text, v text);"
        " INSERT INTO t VALUES (1, 'me', 'a'), (2, 'other', NULL);"
        " ALTER TABLE t ENABLE ROW LEVEL SECURITY;"
        " CREATE POLICY mine ON t USING (owner = 'me');",
        "rls",
    )
    psql("postgres", f"CREATE ROLE {role} LOGIN")
    psql(db, f"GRANT USAGE ON SCHEMA public TO {role}; GRANT SELECT ON t TO {role};")
    yield db, role
    psql(db, f"REVOKE ALL ON t FROM {role}; REVOKE ALL ON SCHEMA public FROM {role};", check=False)
    psql("postgres", f"DROP OWNED BY {role}", check=False)
    _drop(db)
    psql("postgres", f"DROP ROLE IF EXISTS {role}")


@pytest.mark.xfail(
    strict=True,
    reason="false pass: a read-only role under row-level security sees only some rows; the preflight "
    "says 'ok: public.t.v has no NULLs' and PASSED, but SET NOT NULL fails on the hidden rows",
)
def test_rls_hidden_rows_false_pass(rls_target, tmp_path):
    db, role = rls_target
    ups = ["ALTER TABLE t ALTER COLUMN v SET NOT NULL"]
    ok, _ = truth(db, ups)
    assert not ok
    r = verify(db, write_revision(tmp_path, ups), user=role)
    assert r.returncode != 0, r.stdout


@pytest.fixture(scope="module")
def big_target(targets):
    # 1.5M rows (> 1M: sampled); one duplicate, one NULL and one unconvertible value near the end
    return targets.make(
        "CREATE TABLE t(id bigint, v int, e text, s text);"
        " INSERT INTO t SELECT g, g, 'u' || g, g::text FROM generate_series(1, 1500000) g;"
        " UPDATE t SET v = 7, e = 'U7', s = 'x' WHERE id = 1499999;"
        " UPDATE t SET s = NULL WHERE id = 1499998;",
        "big",
    )


BIG = {
    "unique": ["ALTER TABLE t ADD CONSTRAINT t_v UNIQUE (v)"],
    "unique_lower": ["CREATE UNIQUE INDEX t_e ON t (lower(e))"],
    "convert": ["ALTER TABLE t ALTER COLUMN s TYPE int USING s::int"],
    "not_null": ["ALTER TABLE t ALTER COLUMN s SET NOT NULL"],
}


SAMPLING_REASON = "known limitation: tables over 1M rows are sampled (~10k rows, 'not proven for the rest' in the spec) and a clean sample passes; one bad row outside the sample still breaks production"


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=SAMPLING_REASON))
        for c in sorted(BIG)
    ],
)
def test_big_table_sampling_false_pass(big_target, tmp_path, case):
    r = verify(big_target, write_revision(tmp_path, BIG[case]))
    assert r.returncode != 0 and "PASSED" not in r.stdout, r.stdout


def test_big_table_truth(big_target):
    """The revisions above really fail on (a copy of) the big target."""
    ok, err = truth(big_target, BIG["unique"])
    assert not ok and "duplicated" in err


@pytest.mark.xfail(
    strict=True,
    reason="false failure: varchar narrowing where the excess is only trailing spaces succeeds on PostgreSQL (they are cut), but the preflight counts char_length",
)
def test_varchar_narrowing_trailing_spaces_false_failure(targets, tmp_path):
    db = targets.make(
        "CREATE TABLE t(v varchar(50)); INSERT INTO t VALUES ('abc'), ('abcde     ');", "ff"
    )
    ups = ["ALTER TABLE t ALTER COLUMN v TYPE varchar(5)"]
    assert truth(db, ups)[0]
    r = verify(db, write_revision(tmp_path, ups))
    assert r.returncode == 0, r.stdout


@pytest.mark.xfail(
    strict=True,
    reason="false failure: the target's values convert with USING nullif(v,'')::int, but generated scratch rows ('v') do not follow the target's values",
)
def test_using_expression_scratch_rows_do_not_follow_target(targets, tmp_path):
    db = targets.make("CREATE TABLE t(v text); INSERT INTO t VALUES ('1'), ('');", "ff")
    ups = ["ALTER TABLE t ALTER COLUMN v TYPE int USING nullif(v, '')::int"]
    assert truth(db, ups)[0]
    r = verify(db, write_revision(tmp_path, ups))
    assert r.returncode == 0, r.stdout


# Claims that held: (setup, upgrade statements); the verdict must match the truth.
HOLDS = {
    "unique_nulls_distinct": (
        "CREATE TABLE t(a int, b int); INSERT INTO t VALUES (1, NULL), (1, NULL), (2, 3);",
        ["ALTER TABLE t ADD CONSTRAINT t_ab UNIQUE (a, b)"],
    ),
    "unique_nulls_not_distinct": (
        "CREATE TABLE t(a int, b int); INSERT INTO t VALUES (1, NULL), (1, NULL), (2, 3);",
        ["ALTER TABLE t ADD CONSTRAINT t_ab UNIQUE NULLS NOT DISTINCT (a, b)"],
    ),
    "partial_unique_dups_outside": (
        "CREATE TABLE t(a int, active bool); INSERT INTO t VALUES (1, false), (1, false), (1, true);",
        ["CREATE UNIQUE INDEX t_a ON t(a) WHERE active"],
    ),
    "partial_unique_dups_inside": (
        "CREATE TABLE t(a int, active bool); INSERT INTO t VALUES (1, true), (1, true);",
        ["CREATE UNIQUE INDEX t_a ON t(a) WHERE active"],
    ),
    "case_only_dups_lower": (
        "CREATE TABLE t(e text); INSERT INTO t VALUES ('a@x'), ('A@x');",
        ["CREATE UNIQUE INDEX t_e ON t(lower(e))"],
    ),
    "case_only_dups_plain": (
        "CREATE TABLE t(e text); INSERT INTO t VALUES ('a@x'), ('A@x');",
        ["ALTER TABLE t ADD CONSTRAINT t_e UNIQUE (e)"],
    ),
    "composite_fk_null_component": (
        "CREATE TABLE p(a int, b int, PRIMARY KEY (a, b)); INSERT INTO p VALUES (1, 1);"
        " CREATE TABLE c(a int, b int); INSERT INTO c VALUES (1, 1), (2, NULL);",
        ["ALTER TABLE c ADD CONSTRAINT c_fk FOREIGN KEY (a, b) REFERENCES p(a, b)"],
    ),
    "composite_fk_match_full": (
        "CREATE TABLE p(a int, b int, PRIMARY KEY (a, b)); INSERT INTO p VALUES (1, 1);"
        " CREATE TABLE c(a int, b int); INSERT INTO c VALUES (1, 1), (2, NULL);",
        ["ALTER TABLE c ADD CONSTRAINT c_fk FOREIGN KEY (a, b) REFERENCES p(a, b) MATCH FULL"],
    ),
    "fk_to_unique_column": (
        "CREATE TABLE p(id int PRIMARY KEY, code text UNIQUE); INSERT INTO p VALUES (1, 'x');"
        " CREATE TABLE c(code text); INSERT INTO c VALUES ('x'), ('y');",
        ["ALTER TABLE c ADD CONSTRAINT c_fk FOREIGN KEY (code) REFERENCES p(code)"],
    ),
    "fk_not_valid_then_validate": (
        "CREATE TABLE p(id int PRIMARY KEY); INSERT INTO p VALUES (1);"
        " CREATE TABLE c(pid int); INSERT INTO c VALUES (1), (2);",
        [
            "ALTER TABLE c ADD CONSTRAINT c_fk FOREIGN KEY (pid) REFERENCES p(id) NOT VALID",
            "ALTER TABLE c VALIDATE CONSTRAINT c_fk",
        ],
    ),
    "fk_not_valid_only": (
        "CREATE TABLE p(id int PRIMARY KEY); INSERT INTO p VALUES (1);"
        " CREATE TABLE c(pid int); INSERT INTO c VALUES (1), (2);",
        ["ALTER TABLE c ADD CONSTRAINT c_fk FOREIGN KEY (pid) REFERENCES p(id) NOT VALID"],
    ),
    "check_calls_user_function": (
        "CREATE FUNCTION okval(text) RETURNS bool LANGUAGE sql IMMUTABLE AS $$ SELECT $1 <> 'bad' $$;"
        " CREATE TABLE t(e text); INSERT INTO t VALUES ('good'), ('bad');",
        ["ALTER TABLE t ADD CONSTRAINT t_ok CHECK (okval(e))"],
    ),
    "update_fixes_then_not_null": (
        "CREATE TABLE t(v text); INSERT INTO t VALUES ('a'), (NULL);",
        ["UPDATE t SET v = 'x' WHERE v IS NULL", "ALTER TABLE t ALTER COLUMN v SET NOT NULL"],
    ),
    "delete_dups_then_unique": (
        "CREATE TABLE t(v int); INSERT INTO t VALUES (1), (1), (2);",
        [
            "DELETE FROM t WHERE ctid NOT IN (SELECT min(ctid) FROM t GROUP BY v)",
            "ALTER TABLE t ADD CONSTRAINT t_v UNIQUE (v)",
        ],
    ),
    "mixed_case_other_schema": (
        'CREATE SCHEMA "Sales"; CREATE TABLE "Sales"."Cust"("Phone" text);'
        ' INSERT INTO "Sales"."Cust" VALUES (\'1\'), (NULL);',
        ['ALTER TABLE "Sales"."Cust" ALTER COLUMN "Phone" SET NOT NULL'],
    ),
    "partitioned_not_null": (
        "CREATE TABLE p(a int, v text) PARTITION BY RANGE (a);"
        " CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (100);"
        " CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (100) TO (200);"
        " INSERT INTO p VALUES (1, 'x'), (150, NULL);",
        ["ALTER TABLE p ALTER COLUMN v SET NOT NULL"],
    ),
    "numeric_overflow": (
        "CREATE TABLE t(v numeric); INSERT INTO t VALUES (1.5), (123456.789);",
        ["ALTER TABLE t ALTER COLUMN v TYPE numeric(5,2)"],
    ),
    "timestamp_out_of_range": (
        "CREATE TABLE t(v text); INSERT INTO t VALUES ('2024-01-01'), ('2024-13-01');",
        ["ALTER TABLE t ALTER COLUMN v TYPE timestamp USING v::timestamp"],
    ),
    "enum_recreate_drops_used_value": (
        "CREATE TYPE st AS ENUM ('a', 'b', 'c'); CREATE TABLE t(v st); INSERT INTO t VALUES ('a'), ('c');",
        [
            "ALTER TYPE st RENAME TO st_old",
            "CREATE TYPE st AS ENUM ('a', 'b')",
            "ALTER TABLE t ALTER COLUMN v TYPE st USING v::text::st",
            "DROP TYPE st_old",
        ],
    ),
    "update_violates_unique": (
        "CREATE TABLE t(id int, v text UNIQUE); INSERT INTO t VALUES (1, 'a'), (2, NULL), (3, NULL);",
        ["UPDATE t SET v = 'unknown' WHERE v IS NULL"],
    ),
}


@pytest.mark.parametrize("case", sorted(HOLDS))
def test_verdict_matches_target(targets, tmp_path, case):
    setup, ups = HOLDS[case]
    db = targets.make(setup, "ok")
    ok, err = truth(db, ups)
    r = verify(db, write_revision(tmp_path, ups))
    assert (r.returncode == 0) == ok, f"truth: {'succeeds' if ok else err}\n{r.stdout}"
    assert "Traceback" not in r.stderr


# --------------------------------------------------------------------------- claim 2: read only

EVIL_SETUP = """
CREATE TABLE t(id int PRIMARY KEY, name text); INSERT INTO t VALUES (1, '1'), (2, '2');
CREATE FUNCTION evilcmp(a int, b int) RETURNS int LANGUAGE sql AS
  $$ SELECT count(pg_create_physical_replication_slot('{slot}'))::int * 0 + btint4cmp(a, b) $$;
CREATE OPERATOR CLASS evil_ops FOR TYPE int4 USING btree AS
  OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >, FUNCTION 1 evilcmp(int4, int4);
CREATE TYPE evrange AS RANGE (subtype = int4, subtype_opclass = evil_ops);
"""


@pytest.fixture
def evil_target(targets):
    slot = "breakit_" + secrets.token_hex(4)
    db = targets.make(EVIL_SETUP.format(slot=slot), "ro")
    before_dump, before_slots = dump(db), slots()
    yield db, slot, before_dump, before_slots
    drop_breakit_slots()


async def _mcp_calls(db: str, calls: list[tuple[str, dict]]) -> list:
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(command=MIGAGENT, args=["mcp", "--db", _url(db)])
    out = []
    async with stdio_client(params) as (r, w), ClientSession(r, w) as s:
        await s.initialize()
        for name, args in calls:
            res = await asyncio.wait_for(s.call_tool(name, args), 300)
            out.append("".join(getattr(c, "text", "") for c in res.content))
    return out


def mcp(db: str, calls: list[tuple[str, dict]]) -> list[str]:
    return asyncio.run(_mcp_calls(db, calls))


@pytest.mark.xfail(
    strict=True,
    reason="query_target gap: a range type's subtype_opclass comparison function (VOLATILE, user-defined) runs inside the IMMUTABLE range constructor; query_guard does not follow opclass support functions",
)
def test_mcp_query_target_range_opclass_creates_replication_slot(evil_target):
    db, slot, before_dump, _before_slots = evil_target
    mcp(db, [("query_target", {"sql": "SELECT evrange(1, 5)"})])
    assert slot not in slots(), "query_target created a replication slot on the target"
    assert dump(db) == before_dump


# Found and fixed while this suite was written (held at the end): verify --db evaluates the revision's own USING expression on the target's rows in its  'preflight': pg_create_physical_replication_slot() in a USING clause runs on the target server  (read-only transactions do not stop it)",
def test_verify_preflight_runs_revision_expression_on_target(evil_target, tmp_path):
    db, slot, before_dump, _ = evil_target
    ups = [
        "ALTER TABLE t ALTER COLUMN name TYPE int USING "
        f"(pg_create_physical_replication_slot('{slot}x') IS NOT NULL)::int"
    ]
    verify(db, write_revision(tmp_path, ups))
    assert slot + "x" not in slots(), "verify created a replication slot on the target"
    assert dump(db) == before_dump


# Found and fixed while this suite was written (held at the end): verify --db preflight of a CHECK runs the CHECK expression (a target function that  creates a replication slot) on the target",
def test_verify_preflight_runs_check_expression_on_target(evil_target, tmp_path):
    db, slot, _before_dump, _ = evil_target
    ups = ["ALTER TABLE t ADD CONSTRAINT c CHECK (evilcmp(id, 1) IS NOT NULL)"]
    verify(db, write_revision(tmp_path, ups))
    assert slot not in slots(), "verify created a replication slot on the target"


# Found and fixed while this suite was written (held at the end): MCP verify_revision (model-written revision) reaches the target through the preflight:  a USING expression creates a replication slot on the target server",
def test_mcp_verify_revision_reaches_target(evil_target, tmp_path):
    db, slot, _before_dump, _ = evil_target
    ups = [
        "ALTER TABLE t ALTER COLUMN name TYPE int USING "
        f"(pg_create_physical_replication_slot('{slot}y') IS NOT NULL)::int"
    ]
    src = write_revision(tmp_path, ups).read_text()
    mcp(db, [("verify_revision", {"source": src})])
    assert slot + "y" not in slots(), "verify_revision created a replication slot on the target"


def test_mcp_scratch_fence_holds(evil_target):
    """run_sql_in_scratch cannot reach the server, programs or the target."""
    db, slot, before_dump, _before_slots = evil_target
    before = server_objects()
    out = mcp(
        db,
        [
            ("run_sql_in_scratch", {"sql": "CREATE EXTENSION dblink"}),
            (
                "run_sql_in_scratch",
                {"sql": "COPY (SELECT 1) TO PROGRAM 'touch /tmp/breakit_pwned'"},
            ),
            (
                "run_sql_in_scratch",
                {"sql": f"SELECT pg_create_physical_replication_slot('{slot}z')"},
            ),
            ("run_sql_in_scratch", {"sql": "SELECT evrange(1, 5)"}),
            (
                "run_sql_in_scratch",
                {
                    "sql": "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
                },
            ),
            ("query_target", {"sql": "SELECT pg_create_physical_replication_slot('breakit_q')"}),
            ("query_target", {"sql": "SELECT lo_import('/etc/hostname')"}),
        ],
    )
    assert all('"ok": false' in o or "not allowed" in o or "VOLATILE" in o for o in out), out
    assert not Path("/tmp/breakit_pwned").exists()
    assert dump(db) == before_dump
    assert server_objects() == before


def test_normal_runs_leave_target_byte_identical(targets, tmp_path):
    db = targets.make(
        "CREATE TABLE customers(id serial PRIMARY KEY, email text, phone text);"
        " INSERT INTO customers(email, phone) VALUES ('a@x', '1'), ('A@x', NULL);"
        " CREATE SEQUENCE s; SELECT nextval('s');",
        "ro",
    )
    before, objs = dump(db), server_objects()
    for req in (
        "make customers.phone required",
        "set customers.phone to 'unknown' where it is null",
        "add a unique index on lower(customers.email)",
    ):
        r = migagent(
            "draft",
            req,
            "--db",
            _url(db),
            "--backend",
            "offline",
            "--no-estimate",
            "--out",
            str(tmp_path / "o"),
        )
        assert "Traceback" not in r.stderr
    verify(db, write_revision(tmp_path, ["ALTER TABLE customers ALTER COLUMN phone SET NOT NULL"]))
    assert dump(db) == before
    assert server_objects() == objs


def _revision_source(body: str) -> str:
    return (
        '"""breakit\n\nRevision ID: ab12cd34ef56\n"""\nfrom alembic import op\n'
        'revision = "ab12cd34ef56"\ndown_revision = None\nbranch_labels = None\ndepends_on = None\n\n'
        f"def upgrade() -> None:\n{body}\n\ndef downgrade() -> None:\n    pass\n"
    )


# Found and fixed while this suite was written (held at the end): MCP verify_revision runs model-written Python outside any fence even though it reports  'open / __import__ / import psycopg is not allowed': the file is written, a shell command runs,  and a CREATE TABLE lands on the target database",
def test_mcp_verify_revision_python_escapes_fence(targets, tmp_path):
    db = targets.make("CREATE TABLE t(id int);", "py")
    before = dump(db)
    flag_open, flag_shell = tmp_path / "PWNED_open", tmp_path / "PWNED_shell"
    bodies = [
        f"    open({str(flag_open)!r}, 'w').write('x')\n    op.execute('SELECT 1')",
        f"    __import__('os').system('touch {flag_shell}')\n    op.execute('SELECT 1')",
        f"    import psycopg\n    c = psycopg.connect({_url(db)!r}, autocommit=True)\n"
        "    c.execute('CREATE TABLE pwned(x int)')",
    ]
    out = mcp(db, [("verify_revision", {"source": _revision_source(b)}) for b in bodies])
    assert all("not allowed" in o for o in out), out  # what migagent claims
    assert not flag_open.exists(), "open() ran"
    assert not flag_shell.exists(), "os.system() ran"
    assert dump(db) == before, "the model-written revision wrote to the target"


async def _mcp_timed(db: str, name: str, args: dict, wait: float) -> str:
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, get_default_environment, stdio_client

    env = {**get_default_environment(), "MIGAGENT_REVISION_TIMEOUT": "10"}
    params = StdioServerParameters(command=MIGAGENT, args=["mcp", "--db", _url(db)], env=env)
    async with stdio_client(params) as (r, w), ClientSession(r, w) as s:
        await s.initialize()
        try:
            res = await asyncio.wait_for(s.call_tool(name, args), wait)
        except TimeoutError:
            return "TIMEOUT"
        return "".join(getattr(c, "text", "") for c in res.content)


def test_mcp_verify_revision_busy_loop_ends(targets):
    db = targets.make("CREATE TABLE t(id int);", "py")
    out = asyncio.run(
        _mcp_timed(
            db,
            "verify_revision",
            {"source": _revision_source("    while True:\n        pass")},
            60,
        )
    )
    assert out != "TIMEOUT", "verify_revision did not answer within 60 s (limit 10 s)"


# --------------------------------------------------------------------------- claim 3: bad input


@pytest.fixture(scope="module")
def plain_target(targets):
    return targets.make("CREATE TABLE x(id int, phone text); INSERT INTO x VALUES (1, NULL);", "in")


@pytest.mark.parametrize(
    "args_fn, needle",
    [
        (lambda db, p: ["verify", str(p), "--db", _url("breakit_no_such_db")], "does not exist"),
        (
            lambda db, p: ["verify", str(p), "--db", "mysql://root@localhost/x"],
            "not a PostgreSQL URL",
        ),
        (
            lambda db, p: ["verify", str(p), "--db", f"{SERVER}:99999/x".replace(":5432:", ":")],
            "port",
        ),
        (lambda db, p: ["verify", "/nonexistent/rev.py", "--db", _url(db)], "does not exist"),
        (
            lambda db, p: [
                "draft",
                "make nosuch.phone required",
                "--db",
                _url(db),
                "--backend",
                "offline",
                "--dry-run",
            ],
            "table",
        ),
        (
            lambda db, p: [
                "draft",
                "make x.nosuch required",
                "--db",
                _url(db),
                "--backend",
                "offline",
                "--dry-run",
            ],
            "no column",
        ),
    ],
)
def test_bad_input_one_line_error(plain_target, tmp_path, args_fn, needle):
    p = write_revision(tmp_path, ["SELECT 1"])
    r = migagent(*args_fn(plain_target, p))
    assert r.returncode != 0
    assert "Traceback" not in r.stderr + r.stdout
    assert needle in r.stderr, r.stderr


@pytest.mark.parametrize(
    "line",
    [
        "\\! touch {flag}",
        "  \\! touch {flag}",
        "SELECT 1 \\g |touch {flag}",
        "\\o |touch {flag}",
        "\\copy (SELECT 1) TO PROGRAM 'touch {flag}'",
        "SELECT 'touch {flag}' \\gexec",
        "COPY (SELECT 1) TO PROGRAM 'touch {flag}'",
    ],
)
def test_schema_file_cannot_run_commands(tmp_path, line):
    flag = tmp_path / "PWNED"
    sql = tmp_path / "s.sql"
    sql.write_text("CREATE TABLE x(id int);\n" + line.format(flag=flag) + "\n")
    r = migagent("verify", str(write_revision(tmp_path, ["SELECT 1"])), "--schema-file", str(sql))
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert not flag.exists()


def test_binary_files_refused(tmp_path):
    b = tmp_path / "bin.py"
    b.write_bytes(os.urandom(3000))
    r = migagent("verify", str(b), "--schema-file", str(b))
    assert r.returncode == 2 and "Traceback" not in r.stderr and r.stderr.count("\n") == 1


# --------------------------------------------------------------------------- drafts (offline backend)


@pytest.fixture(scope="module")
def shop_target(targets):
    return targets.make(
        "CREATE TABLE customers(id serial PRIMARY KEY, email text, phone text);"
        " INSERT INTO customers(email, phone) VALUES ('a@x', '1'), ('A@x', NULL), ('b@x', '2');"
        " CREATE TABLE orders(id serial PRIMARY KEY, customer_id int, amount text);"
        " INSERT INTO orders(customer_id, amount) VALUES (1, '10'), (2, '20'), (3, '30');",
        "shop",
    )


def draft(db: str, request: str, *extra: str) -> subprocess.CompletedProcess:
    return migagent(
        "draft",
        request,
        "--db",
        _url(db),
        "--backend",
        "offline",
        "--no-estimate",
        "--dry-run",
        *extra,
    )


def test_drop_table_spec_reversible_line(shop_target):
    r = draft(shop_target, "drop table orders")
    assert "recreates the table empty" in r.stdout
    reversible = re.search(r"^- Reversible: (\w+)", r.stdout, re.M)
    assert reversible and reversible.group(1) == "No", reversible and reversible.group(0)


@pytest.mark.xfail(
    strict=True,
    reason="false failure: 'lowercase customers.email' would change 'A@x' on the target, but the "
    "scratch copy's generated emails are already lowercase, so the draft FAILS with 'the upgrade "
    "changed nothing' and is not written",
)
def test_lowercase_data_migration_false_failure(shop_target, tmp_path):
    assert truth(
        shop_target, ["UPDATE customers SET email = lower(email) WHERE email <> lower(email)"]
    )[0]
    n = psql(
        shop_target, "SELECT count(*) FROM customers WHERE email <> lower(email)"
    ).stdout.strip()
    assert n == "1"
    r = migagent(
        "draft",
        "lowercase customers.email",
        "--db",
        _url(shop_target),
        "--backend",
        "offline",
        "--no-estimate",
        "--out",
        str(tmp_path / "out"),
    )
    assert r.returncode == 0, r.stderr


@pytest.fixture(scope="module")
def unanalyzed_target(targets):
    db = f"breakit_na_{secrets.token_hex(4)}"
    _drop(db)
    psql("postgres", f'CREATE DATABASE "{db}"')
    targets.made.append(db)
    # 300k rows, never analyzed or vacuumed: reltuples = -1, relpages = 0
    psql(
        db,
        "CREATE TABLE items(id bigint PRIMARY KEY, sku text) WITH (autovacuum_enabled = false);"
        " INSERT INTO items SELECT g, 's' || g FROM generate_series(1, 300000) g;",
    )
    return db


def test_never_analyzed_big_table_gets_online_index(unanalyzed_target):
    r = draft(unanalyzed_target, "add an index on items.sku")
    assert r.returncode == 0, r.stderr
    assert "concurrently" in r.stdout.lower(), re.findall(r".*create_index.*", r.stdout)


def test_two_heads_refused_and_nothing_written(tmp_path, shop_target):
    proj = tmp_path / "proj"
    subprocess.run(
        [sys.executable, "-m", "alembic", "init", str(proj / "alembic")],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    ini = tmp_path / "alembic.ini"
    (proj / "alembic.ini").write_text(
        re.sub(
            r"(?m)^sqlalchemy.url.*$",
            f"sqlalchemy.url = {_url(shop_target)}",
            ini.read_text().replace("%(here)s/alembic", str(proj / "alembic")),
        )
    )
    versions = proj / "alembic" / "versions"
    for rev, down in (("a1", None), ("b1", "a1"), ("c1", "a1")):
        (versions / f"{rev}_x.py").write_text(
            f'"""{rev}\n\nRevision ID: {rev}\n"""\nfrom alembic import op\n'
            f"revision = {rev!r}\ndown_revision = {down!r}\nbranch_labels = None\ndepends_on = None\n"
            f"def upgrade():\n    op.execute('SELECT 1')\ndef downgrade():\n    op.execute('SELECT 1')\n"
        )
    before = sorted(p.name for p in versions.iterdir())
    r = migagent(
        "draft", "make customers.email required", "--backend", "offline", "--no-estimate", cwd=proj
    )
    assert (
        r.returncode == 2 and "b1" in r.stderr and "c1" in r.stderr and "Traceback" not in r.stderr
    )
    assert sorted(p.name for p in versions.iterdir()) == before
    assert not (proj / "docs").exists()


# --------------------------------------------------------------------------- interrupts and kills


def _sandbox_psql(sql: str) -> str:
    from migagent.tools.sandbox import Sandbox

    Sandbox.open()  # joins (or starts) the embedded server and keeps it up for this process
    sock = Path.home() / ".cache" / "migagent" / "pg18"
    pid_file = sock / "postmaster.pid"
    port = pid_file.read_text().splitlines()[3]
    r = subprocess.run(
        ["psql", "-X", "-At", "-h", str(sock), "-p", port, "-U", "postgres", "-c", sql],
        capture_output=True,
        text=True,
        check=True,
    )
    return r.stdout


def _scratch_of(pid: int) -> list[str]:
    return _sandbox_psql(
        f"SELECT datname FROM pg_database WHERE datname LIKE 'migagent_s_{pid}_%'"
    ).split()


@pytest.mark.parametrize(
    "sig, rc, line", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")]
)
def test_signal_mid_run_drops_scratch(shop_target, tmp_path, sig, rc, line):
    rev = write_revision(tmp_path, ["SELECT pg_sleep(30)"])
    p = subprocess.Popen(
        [MIGAGENT, "verify", str(rev), "--db", _url(shop_target)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 60
    while not _scratch_of(p.pid) and time.time() < deadline:
        time.sleep(0.3)
    assert _scratch_of(p.pid), "no scratch database appeared"
    time.sleep(1)
    p.send_signal(sig)
    _out, err = p.communicate(timeout=60)
    assert p.returncode == rc and err.strip() == line and "Traceback" not in err
    assert _scratch_of(p.pid) == []


def test_sigkill_scratch_is_pruned_by_next_run(shop_target, tmp_path):
    rev = write_revision(tmp_path, ["SELECT pg_sleep(30)"])
    p = subprocess.Popen(
        [MIGAGENT, "verify", str(rev), "--db", _url(shop_target)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while not _scratch_of(p.pid) and time.time() < deadline:
        time.sleep(0.3)
    time.sleep(1)
    p.kill()
    p.wait()
    assert _scratch_of(p.pid), "the killed run left no scratch database to prune"
    migagent(
        "verify",
        str(write_revision(tmp_path, ["SELECT 1"])),
        "--db",
        _url(shop_target),
        "--no-round-trip",
    )
    assert _scratch_of(p.pid) == []


@pytest.mark.xfail(
    strict=True,
    reason="`migagent sandbox status` names the pid, data directory and counts but not the URL to "
    "connect to, so a user cannot check for leaked scratch databases as the docs suggest",
)
def test_sandbox_status_shows_url():
    r = migagent("sandbox", "status")
    assert r.returncode == 0
    assert re.search(r"postgres(ql)?://", r.stdout), r.stdout
