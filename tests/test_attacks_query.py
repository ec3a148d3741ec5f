"""`query_target` under attack (issue 18): everything here must be refused, and leave the
target exactly as it was; the legitimate reads at the end must still work.

The target is a real database from `target_db` (the PostgreSQL 15 server when
MIGAGENT_TEST_SERVER_URL is set), reached through `Toolbox.for_target`, like a
session would. Add new attacks to `ATTACKS`: each runs on its own target (with
its server-level state checked), and all of them run once more in a row on one
target whose `pg_dump` (schema and data) must be byte-identical afterwards.
"""

from __future__ import annotations

import re
import subprocess
import threading
from dataclasses import dataclass

import psycopg
import pytest

from migagent.agent.toolbox import Toolbox, ToolboxError
from migagent.tools import pgurl, query_guard
from migagent.tools.sandbox import Sandbox, bin_dir

# slow: about 16 s on 2 cores: 134 probes of the fence around query_target
pytestmark = pytest.mark.slow

SLOT = "migagent_attack_slot"

SETUP = """
CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 50) g;
CREATE SEQUENCE s;
-- a volatile function behind an operator, a domain CHECK and a cast
CREATE FUNCTION public.leak(a int, b int) RETURNS boolean LANGUAGE sql VOLATILE
    AS $$ SELECT pg_terminate_backend(a) $$;
CREATE OPERATOR public.=== (LEFTARG = int, RIGHTARG = int, FUNCTION = public.leak);
CREATE FUNCTION public.noisy(v int) RETURNS boolean LANGUAGE sql VOLATILE AS $$ SELECT true $$;
CREATE DOMAIN public.checked_int AS int CHECK (public.noisy(VALUE));
CREATE TYPE public.mood AS ENUM ('ok', 'sad');
CREATE FUNCTION public.int_to_mood(v int) RETURNS public.mood LANGUAGE sql VOLATILE
    AS $$ SELECT 'ok'::public.mood $$;
CREATE CAST (int AS public.mood) WITH FUNCTION public.int_to_mood(int);
-- overloads: a volatile length(a, b, c) on the search_path, a volatile lower(int) off it
CREATE FUNCTION public.length(a int, b int, c int) RETURNS int LANGUAGE sql VOLATILE
    AS $$ SELECT nextval('s')::int $$;
CREATE SCHEMA hidden;
CREATE FUNCTION hidden.lower(v int) RETURNS int LANGUAGE sql VOLATILE AS $$ SELECT v $$;
-- views run what they are defined with
CREATE VIEW public.files AS SELECT pg_ls_dir('/') AS name;
CREATE VIEW public.files_again AS SELECT * FROM public.files;
CREATE VIEW public.plain AS SELECT id, lower(name) AS name FROM t;
-- STABLE functions whose bodies call what query_target refuses
CREATE FUNCTION public.sneaky() RETURNS SETOF text LANGUAGE sql STABLE
    AS $$ SELECT pg_ls_dir('/') $$;
CREATE FUNCTION public.sneaky_atomic() RETURNS text LANGUAGE sql STABLE
    BEGIN ATOMIC SELECT pg_read_file('/etc/hostname'); END;
CREATE FUNCTION public.plsneaky() RETURNS boolean LANGUAGE plpgsql STABLE
    AS $$ BEGIN RETURN pg_terminate_backend(pg_backend_pid()); END $$;
-- STABLE SQL functions that read server files, behind an operator, a domain and an aggregate
CREATE FUNCTION public.peek_op(a int, b int) RETURNS boolean LANGUAGE sql STABLE
    AS $$ SELECT count(*) > 0 FROM pg_ls_dir('/') $$;
CREATE OPERATOR public.#~# (LEFTARG = int, RIGHTARG = int, FUNCTION = public.peek_op);
CREATE FUNCTION public.check_peek(v int) RETURNS boolean LANGUAGE sql STABLE
    AS $$ SELECT length(pg_read_file('/etc/hostname')) > 0 $$;
CREATE DOMAIN public.peeked_int AS int CHECK (public.check_peek(VALUE));
CREATE FUNCTION public.step_peek(acc int, v int) RETURNS int LANGUAGE sql STABLE
    AS $$ SELECT acc + (SELECT count(*)::int FROM pg_ls_dir('/')) $$;
CREATE AGGREGATE public.peek_total(int) (SFUNC = public.step_peek, STYPE = int, INITCOND = '0');
-- an aggregate is IMMUTABLE in pg_proc whatever its transition function is
CREATE FUNCTION public.agg_step(acc int, v int) RETURNS int LANGUAGE sql VOLATILE
    AS $$ SELECT acc + v $$;
CREATE AGGREGATE public.total(int) (SFUNC = public.agg_step, STYPE = int, INITCOND = '0');
-- a row-level security policy runs on every row read
CREATE TABLE public.secret (id int);
ALTER TABLE public.secret ENABLE ROW LEVEL SECURITY;
CREATE POLICY peek ON public.secret USING (public.noisy(id));
CREATE FUNCTION public.double_it(v int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT v * 2 $$;
"""


@dataclass(frozen=True)
class Attack:
    name: str
    sql: str  # {pid}: a victim session; {url}: the target, for dblink
    reason: str  # a fragment of the refusal
    needs: str = ""  # an extension the attack needs ("dblink")


def _deep_sum(terms: int) -> str:
    return "SELECT " + "+".join(["1"] * terms)


ATTACKS = [
    # issue 18, as measured
    Attack("import collations", "SELECT pg_import_system_collations('public')", "VOLATILE"),
    Attack("replication slot", f"SELECT pg_create_physical_replication_slot('{SLOT}')", "VOLATILE"),
    Attack(
        "lo_import via query_to_xml",
        "SELECT query_to_xml('select lo_import(''/etc/hostname'')', true, true, '')",
        "query_to_xml is not allowed",
    ),
    Attack(
        "dblink_exec via query_to_xml",
        "SELECT query_to_xml('select dblink_exec(''{url}'', ''DELETE FROM t'')', true, true, '')",
        "query_to_xml is not allowed",
    ),
    Attack(
        "terminate via query_to_xml",
        "SELECT query_to_xml('select pg_terminate_backend({pid})', true, true, '')",
        "query_to_xml is not allowed",
    ),
    Attack("pg_read_file", "SELECT pg_read_file('/etc/passwd')", "pg_read_file is not allowed"),
    Attack("pg_ls_dir in FROM", "SELECT * FROM pg_ls_dir('/')", "pg_ls_dir is not allowed"),
    Attack("pg_backup_start", "SELECT pg_backup_start('x')", "VOLATILE"),
    Attack("100 KB expression", _deep_sum(50_000), "at most 20,000"),
    Attack("10 KB expression", _deep_sum(5_000), "operators"),
    Attack("deep parentheses", "SELECT " + "(" * 5_000 + "1" + ")" * 5_000, "brackets deep"),
    Attack("deep brackets", "SELECT (ARRAY[1])" + "[1" * 100 + "]" * 100, "brackets deep"),
    # hidden deeper in the tree
    Attack(
        "in a CTE",
        "WITH x AS (SELECT pg_read_file('/etc/passwd') AS f) SELECT * FROM x",
        "pg_read_file",
    ),
    Attack(
        "in LATERAL",
        "SELECT * FROM t, LATERAL (SELECT pg_terminate_backend({pid})) k",
        "pg_terminate_backend",
    ),
    Attack(
        "sub-select in CASE",
        "SELECT CASE WHEN id = 1 THEN (SELECT pg_terminate_backend({pid})) END FROM t",
        "pg_terminate_backend",
    ),
    Attack(
        "IN sub-select",
        "SELECT * FROM t WHERE id IN (SELECT pg_cancel_backend({pid})::int)",
        "pg_cancel_backend",
    ),
    Attack("ORDER BY", "SELECT id FROM t ORDER BY pg_terminate_backend({pid})", "terminate"),
    Attack(
        "aggregate FILTER",
        "SELECT count(*) FILTER (WHERE pg_terminate_backend({pid})) FROM t",
        "terminate",
    ),
    Attack("VALUES", "VALUES (pg_terminate_backend({pid}))", "terminate"),
    Attack("row constructor", "SELECT ROW(1, pg_terminate_backend({pid}))", "terminate"),
    Attack("ARRAY sub-select", "SELECT ARRAY(SELECT pg_notify('c', 'x'))", "pg_notify is VOLATILE"),
    Attack(
        "ROWS FROM", "SELECT * FROM ROWS FROM (generate_series(1, 2), pg_ls_dir('/'))", "pg_ls_dir"
    ),
    Attack("view", "SELECT * FROM files", "view public.files"),
    Attack("view of a view", "SELECT * FROM plain, files_again", "pg_ls_dir"),
    Attack("view in a sub-select", "SELECT (SELECT count(*) FROM public.files)", "pg_ls_dir"),
    Attack("pg_hba_file_rules view", "SELECT * FROM pg_hba_file_rules", "reads server files"),
    Attack("pg_file_settings view", "SELECT * FROM pg_file_settings", "reads server files"),
    Attack(
        "STABLE SQL function",
        "SELECT * FROM sneaky()",
        "function public.sneaky: function pg_ls_dir",
    ),
    Attack("BEGIN ATOMIC body", "SELECT sneaky_atomic()", "pg_read_file is not allowed"),
    Attack("plpgsql function", "SELECT plsneaky()", "written in plpgsql"),
    Attack("aggregate", "SELECT total(id) FROM t", "agg_step (aggregate support)"),
    Attack("SQL body behind an operator", "SELECT 1 #~# 2", "public.peek_op (an operator's"),
    Attack("SQL body in a domain CHECK", "SELECT '1'::peeked_int", "public.check_peek (a type's"),
    Attack("SQL body of an aggregate", "SELECT peek_total(id) FROM t", "public.step_peek (an agg"),
    Attack("SHOW", "SHOW server_version", "current_setting('name')"),
    Attack("RLS policy", "SELECT count(*) FROM secret", "policy peek on table public.secret"),
    Attack("EXPLAIN of a call", "EXPLAIN SELECT pg_read_file('/etc/passwd')", "pg_read_file"),
    # operators, casts, types and names resolve to functions too
    Attack("operator", "SELECT {pid} === 1", "operator === runs public.leak"),
    Attack("OPERATOR()", "SELECT {pid} OPERATOR(public.===) 1", "operator === runs public.leak"),
    Attack("domain CHECK", "SELECT 1::checked_int", "noisy"),
    Attack("cast function", "SELECT CAST(1 AS mood)", "int_to_mood"),
    Attack("user function", "SELECT public.leak({pid}, 1)", "leak is VOLATILE"),
    Attack("overload on search_path", "SELECT length(1, 2, 3)", "public.length is VOLATILE"),
    Attack("overload in a schema", "SELECT hidden.lower(1)", "hidden.lower is VOLATILE"),
    Attack("attribute notation", "SELECT t.nextval FROM t", "nextval is VOLATILE"),
    Attack("quoted name", "SELECT \"pg_read_file\"('/etc/passwd')", "pg_read_file"),
    Attack("qualified name", "SELECT pg_catalog . pg_read_file('/etc/passwd')", "pg_read_file"),
    Attack(
        "unicode-escaped name",
        "SELECT U&\"pg\\005fread\\005ffile\"('/etc/passwd')",
        "pg_read_file",
    ),
    Attack("unknown function", "SELECT no_such_function(1)", "does not exist on the target"),
    Attack("TABLESAMPLE method", "SELECT * FROM t TABLESAMPLE evil(1)", "TABLESAMPLE"),
    # volatile built-ins
    Attack("nextval", "SELECT nextval('s')", "nextval is VOLATILE"),
    Attack("setval", "SELECT setval('s', 100)", "setval is VOLATILE"),
    Attack("advisory lock", "SELECT pg_advisory_lock(1)", "pg_advisory_lock is VOLATILE"),
    Attack("txid_current", "SELECT txid_current()", "assigns a transaction id"),
    Attack("pg_current_xact_id", "SELECT pg_current_xact_id()", "assigns a transaction id"),
    Attack("set_config", "SELECT set_config('x.y', 'z', false)", "set_config is VOLATILE"),
    Attack("pg_sleep", "SELECT pg_sleep(10)", "pg_sleep is VOLATILE"),
    Attack("terminate", "SELECT pg_terminate_backend({pid})", "pg_terminate_backend"),
    Attack("reload conf", "SELECT pg_reload_conf()", "VOLATILE"),
    Attack("switch wal", "SELECT pg_switch_wal()", "VOLATILE"),
    Attack("stat reset", "SELECT pg_stat_reset()", "VOLATILE"),
    Attack("table_to_xml (STABLE)", "SELECT table_to_xml('t', true, true, '')", "not allowed"),
    Attack("lo_import", "SELECT lo_import('/etc/hostname')", "lo_import is not allowed"),
    Attack("lo_from_bytea", "SELECT lo_from_bytea(0, 'x')", "lo_from_bytea is not allowed"),
    Attack(
        "dblink_exec",
        "SELECT dblink_exec('{url}', 'DELETE FROM t')",
        "dblink_exec is not allowed",
        needs="dblink",
    ),
    Attack(
        "dblink in FROM",
        "SELECT * FROM dblink('{url}', 'DELETE FROM t RETURNING 1') AS x(a int)",
        "dblink is not allowed",
        needs="dblink",
    ),
    # statements other than a plain read
    Attack("EXPLAIN ANALYZE DELETE", "EXPLAIN ANALYZE DELETE FROM t", "EXPLAIN ANALYZE"),
    Attack("EXPLAIN (ANALYZE)", "EXPLAIN (ANALYZE, COSTS OFF) SELECT 1", "EXPLAIN ANALYZE"),
    Attack("EXPLAIN (ANALYZE on)", "EXPLAIN (ANALYZE on) SELECT 1", "EXPLAIN ANALYZE"),
    Attack("EXPLAIN (TIMING)", "EXPLAIN (TIMING) SELECT 1", "EXPLAIN option TIMING"),
    Attack("EXPLAIN DELETE", "EXPLAIN DELETE FROM t", "only EXPLAIN of a SELECT"),
    Attack("EXPLAIN CREATE AS", "EXPLAIN CREATE TABLE x AS SELECT 1", "only EXPLAIN of a SELECT"),
    Attack("FOR UPDATE", "SELECT * FROM t FOR UPDATE", "FOR UPDATE"),
    Attack("FOR SHARE inside", "SELECT * FROM (SELECT * FROM t FOR SHARE) x", "FOR UPDATE/SHARE"),
    Attack(
        "data-modifying CTE",
        "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
        "data-modifying",
    ),
    Attack(
        "nested data-modifying CTE",
        "SELECT * FROM (WITH d AS (UPDATE t SET name = 'x' RETURNING *) SELECT * FROM d) q",
        "data-modifying",
    ),
    Attack("SELECT INTO", "SELECT * INTO copy FROM t", "SELECT INTO"),
    Attack("two statements", "SELECT 1; DELETE FROM t", "exactly one statement"),
    Attack("DELETE", "DELETE FROM t", "only SELECT or EXPLAIN"),
    Attack("COPY TO PROGRAM", "COPY (SELECT 1) TO PROGRAM 'id'", "only SELECT or EXPLAIN"),
    Attack("SET", "SET search_path = hidden", "only SELECT or EXPLAIN"),
    # comments and strings hiding keywords
    Attack("comment hides ;", "SELECT 1 /* ; */ ; DELETE FROM t -- x", "exactly one statement"),
    Attack("nested comment", "SELECT 1 /* /* */ ; */ ; DELETE FROM t", "exactly one statement"),
    Attack("line comment", "SELECT 1 -- harmless\n; DELETE FROM t", "exactly one statement"),
    Attack("backslash quote", "SELECT 'a\\'; DELETE FROM t; --'", "exactly one statement"),
    Attack("E-string", "SELECT E'a\\''; DELETE FROM t; --'", "exactly one statement"),
    Attack("dollar quote", "SELECT $$ $$; DELETE FROM t; SELECT $$ $$", "exactly one statement"),
    Attack("NUL byte", "SELECT 1\x00; DELETE FROM t", "NUL"),
]

LEGITIMATE = [
    "SELECT count(*) FROM t",
    "SELECT a.id, b.name FROM t a JOIN t b ON b.id = a.id + 1 WHERE a.id < 5 ORDER BY a.id",
    "WITH even AS (SELECT id FROM t WHERE id % 2 = 0) SELECT count(*) FROM even",
    "SELECT attname, n_distinct, null_frac FROM pg_stats WHERE tablename = 't'",
    "SELECT lower(name), now() IS NOT NULL, length(name) FROM t ORDER BY id LIMIT 3",
    "EXPLAIN SELECT * FROM t WHERE id = 1",
    "EXPLAIN (COSTS OFF, VERBOSE, FORMAT JSON) SELECT count(*) FROM t",
    "EXPLAIN (ANALYZE false) SELECT 1",
    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 't'",
    "SELECT id, row_number() OVER (ORDER BY id DESC), sum(id) OVER () FROM t LIMIT 5",
    "SELECT pg_relation_size('t'), pg_total_relation_size('t'::regclass), "
    "pg_size_pretty(pg_table_size('t'))",
    "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
    "WHERE attrelid = 't'::regclass AND attnum > 0",
    "SELECT count(*) FROM t WHERE name LIKE 'row 1%' AND id BETWEEN 1 AND 20 AND id IN (1, 2)",
    "SELECT count(*) FROM t WHERE id = ANY (ARRAY[1, 2]) AND name IS DISTINCT FROM 'x'",
    "SELECT count(*) FROM t WHERE id NOT IN (SELECT id FROM t WHERE id > 10)",
    "SELECT current_setting('server_version_num')::int >= 150000",
    "SELECT count(*) >= 0 FROM t TABLESAMPLE system (50)",
    "SELECT count(*) > 0 FROM pg_stat_activity",
    "SELECT count(*) > 0 FROM pg_locks",
    "SELECT count(*) FROM pg_sequences",
    "SELECT * FROM plain ORDER BY id LIMIT 2",
    "SELECT double_it(id) FROM t WHERE id = 2",
    "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 't'",
    "SELECT relname, n_live_tup FROM pg_stat_user_tables",
    "SELECT CASE id WHEN 1 THEN 'one' ELSE 'many' END, coalesce(name, '-') FROM t LIMIT 2",
    "SELECT extract(epoch FROM now()) > 0, date_trunc('day', now()) <= now()",
    "SELECT string_agg(name, ',' ORDER BY id), percentile_cont(0.5) WITHIN GROUP (ORDER BY id) "
    "FROM t",
    "SELECT * FROM generate_series(1, 3)",
    "SELECT jsonb_build_object('a', 1) -> 'a', t.name, (t).id FROM t LIMIT 1",
    "SELECT 1 -- a comment\n",
    "SELECT /* ; DELETE */ 'it''s', $a$ ; DELETE FROM t; $a$, 'a\\'",
    "SELECT 'ok'::mood, 't'::regclass, '{1,2}'::int[], name::varchar(3) FROM t LIMIT 1",
]


# -------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def sandbox_box() -> Sandbox:
    return Sandbox.open()


@dataclass
class Target:
    url: str
    box: Toolbox
    victim: psycopg.Connection
    extensions: set[str]

    def sql(self, attack: Attack) -> str:
        return attack.sql.replace("{pid}", str(self.victim.info.backend_pid)).replace(
            "{url}", self.url.replace("'", "''")
        )


@pytest.fixture(scope="module")
def target(module_target_db, sandbox_box):
    """One target for the whole suite: every attack must leave it as it was."""
    url = module_target_db(SETUP)
    extensions: set[str] = set()
    with pgurl.connect(url, autocommit=True) as conn:
        available = {r[0] for r in conn.execute("SELECT name FROM pg_available_extensions")}
        if "dblink" in available:
            conn.execute("CREATE EXTENSION dblink")
            extensions.add("dblink")
    victim = pgurl.connect(url, autocommit=True)
    yield Target(url, Toolbox.for_target(url, sandbox=sandbox_box), victim, extensions)
    victim.close()
    with pgurl.connect(url, autocommit=True) as conn:  # undo an attack that got through
        conn.execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
            "WHERE slot_name = %s",
            (SLOT,),
        )


def server_state(url: str) -> dict[str, object]:
    """What the attacks would change outside the dump: slots, large objects, collations."""
    with pgurl.connect(url, autocommit=True) as conn:
        return {
            "slots": conn.execute(
                "SELECT coalesce(array_agg(slot_name ORDER BY slot_name), '{}') "
                "FROM pg_replication_slots"
            ).fetchone()[0],
            "large objects": conn.execute(
                "SELECT count(*) FROM pg_largeobject_metadata"
            ).fetchone()[0],
            "collations": conn.execute("SELECT count(*) FROM pg_collation").fetchone()[0],
            "rows": conn.execute("SELECT count(*), max(name) FROM t").fetchone(),
            "sequence": conn.execute("SELECT last_value, is_called FROM s").fetchone(),
        }


def dump(url: str) -> bytes:
    """pg_dump of schema and data; PostgreSQL 18's per-run \\restrict key is dropped."""
    out = subprocess.run(
        [str(bin_dir() / "pg_dump"), "--no-sync", "-d", url],
        check=True,
        capture_output=True,
    ).stdout
    return b"\n".join(
        line for line in out.splitlines() if not line.startswith((b"\\restrict", b"\\unrestrict"))
    )


def refusal(target: Target, attack: Attack) -> str | None:
    """The refusal message, or None when the query ran."""
    try:
        target.box.query_target(target.sql(attack))
    except ToolboxError as exc:
        return exc.message
    return None


def _skip_unavailable(target: Target, attack: Attack) -> None:
    if attack.needs and attack.needs not in target.extensions:
        pytest.skip(f"{attack.needs} is not available on this server")


# ----------------------------------------------------------------------- tests
@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_attack_is_refused_and_changes_nothing(target: Target, attack: Attack):
    _skip_unavailable(target, attack)
    before = server_state(target.url)
    message = refusal(target, attack)
    assert message is not None, f"{attack.name} ran on the target"
    assert attack.reason in message, message
    assert "\n" not in message.strip()  # one line for the model
    assert server_state(target.url) == before
    assert target.victim.execute("SELECT 1").fetchone() == (1,)  # the other session lives


def test_the_whole_suite_leaves_the_target_byte_identical(target: Target):
    before_dump, before_state = dump(target.url), server_state(target.url)
    outcomes = []
    for attack in ATTACKS:
        if attack.needs and attack.needs not in target.extensions:
            continue
        outcomes.append((attack.name, refusal(target, attack)))
    got_through = [name for name, message in outcomes if message is None]
    assert not got_through, f"ran on the target: {got_through}"
    assert server_state(target.url) == before_state
    assert dump(target.url) == before_dump
    assert target.victim.execute("SELECT 1").fetchone() == (1,)


@pytest.mark.parametrize("sql", LEGITIMATE)
def test_legitimate_reads_still_work(target: Target, sql: str):
    result = target.box.query_target(sql)
    assert result.rows, result


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT 1::mood", "int_to_mood (cast)"),  # any value but a literal may take the cast
        ("SELECT mood(1)", "int_to_mood (cast)"),  # function-style cast
        ("SELECT '1'::checked_int", "noisy (domain check)"),  # the CHECK runs on literals too
    ],
)
def test_casts_run_the_targets_own_functions(target: Target, sql: str, reason: str):
    with pytest.raises(ToolboxError, match=re.escape(reason)):
        target.box.query_target(sql)
    assert target.box.query_target("SELECT 'ok'::mood").rows == [["ok"]]  # enum_in is STABLE


def test_standard_conforming_strings_off_cannot_split_the_query(target_db, sandbox_box):
    # with standard_conforming_strings off the server would read 'a\'' as a string "a'"
    # followed by a second statement; query_target turns it on, as pglast parsed it
    url = target_db(SETUP)
    with pgurl.connect(url, autocommit=True) as conn:
        name = conn.execute("SELECT current_database()").fetchone()[0]
        conn.execute(f'ALTER DATABASE "{name}" SET standard_conforming_strings = off')
    box = Toolbox.for_target(url, sandbox=sandbox_box)
    result = box.query_target("SELECT 'a\\''; SELECT pg_terminate_backend(1); --'")
    assert result.rows == [["a\\'; SELECT pg_terminate_backend(1); --"]]


# ------------------------------------------------------------ the parse limits
def test_the_parse_runs_on_its_own_large_stack():
    # 2,000 nested additions crash pglast on a 256 KB thread stack; the guard's
    # parse thread makes the caller's stack irrelevant
    sql = _deep_sum(query_guard.MAX_OPERATORS)
    outcome: list[object] = []
    threading.stack_size(256 * 1024)
    try:
        worker = threading.Thread(target=lambda: outcome.append(query_guard.inspect(sql)))
        worker.start()
    finally:
        threading.stack_size(0)
    worker.join()
    assert isinstance(outcome[0], query_guard.Inspected)


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("x" * (query_guard.MAX_QUERY_CHARS + 1), "at most 20,000"),
        ("SELECT " + "(" * (query_guard.MAX_NESTING + 1) + "1" + ")" * 65, "brackets deep"),
        (_deep_sum(query_guard.MAX_OPERATORS + 2), "operators"),
        ("SELECT 'unterminated", "does not parse"),
    ],
)
def test_limits_are_checked_before_parsing(sql: str, reason: str):
    with pytest.raises(query_guard.QueryRefused, match=reason):
        query_guard.check_size(sql)
