"""Every eval case's golden migration is valid, on each test server.

For each drafting case (on the embedded PG 18, and on MIGAGENT_TEST_SERVER_URL too
when set; CI points it at PG 15): load `before.sql` into a scratch database,
run the golden's `upgrade()` the way Alembic's env.py does, run `checks.sql`,
run `downgrade()` and require the `before.sql` schema back exactly, then
upgrade once more through the verify runner (the path `migagent eval` takes)
and require the same schema as the first upgrade. Desired-schema cases also
require the golden's tables to equal the ones the desired file creates.
Refusal cases (`refuse` in case.toml) have no golden: they must load, and
their `before.sql` must load and name the tables `[rows]` sizes.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import tomllib
from pathlib import Path
from types import ModuleType

import psycopg
import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy.pool import NullPool

from migagent.errors import UsageError
from migagent.evals.case import CASES_DIR, EvalCase
from migagent.tools.introspect import snapshot
from migagent.tools.introspect.diff import diff_snapshots
from migagent.tools.introspect.model import SchemaSnapshot
from migagent.tools.lint import LintContext, lint_revision_source
from migagent.tools.sandbox import Sandbox, ScratchDatabase
from migagent.tools.verify.runner import run_migration

pytestmark = pytest.mark.slow  # proves every golden on each server (~45 s per server)


def _must_refuse(case_dir: Path) -> bool:
    """Read at collection time; a case.toml that does not parse fails in its own test."""
    try:
        return "refuse" in tomllib.loads((case_dir / "case.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False


ALL_DIRS = sorted(d for d in CASES_DIR.iterdir() if d.is_dir() and (d / "case.toml").exists())
CASE_DIRS = [d for d in ALL_DIRS if not _must_refuse(d)]  # the ones with a golden to prove
CASE_IDS = [d.name for d in CASE_DIRS]
REFUSAL_DIRS = [d for d in ALL_DIRS if _must_refuse(d)]


# --------------------------------------------------------------------------- helpers


def load_golden(case: EvalCase) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"golden_{case.id}", case.golden_path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_revision(db: ScratchDatabase, module: ModuleType, direction: str) -> None:
    """Run `upgrade`/`downgrade` like Alembic's env.py: transactional DDL, `op` proxied."""
    engine = sa.create_engine(
        "postgresql+psycopg://", creator=lambda: psycopg.connect(db.url), poolclass=NullPool
    )
    try:
        with engine.connect() as connection:
            ctx = MigrationContext.configure(connection, opts={"transactional_ddl": True})
            with ctx.begin_transaction(), Operations.context(ctx):
                getattr(module, direction)()
    finally:
        engine.dispose()


def snap(db: ScratchDatabase) -> SchemaSnapshot:
    with db.connect() as conn:
        return snapshot(conn)


def differences(expected: SchemaSnapshot, actual: SchemaSnapshot) -> str:
    return "\n".join(diff_snapshots(expected, actual).summary())


def names_in(s: SchemaSnapshot) -> set[str]:
    names = {t.name for t in s.tables.values()} | {e.name for e in s.enums.values()}
    names |= set(s.extensions)
    for t in s.tables.values():
        names |= {c.name for c in t.columns}
        names |= {i.name for i in t.indexes}
        names |= {c.name for c in t.constraints}
    return names


def only_tables(s: SchemaSnapshot, tables: set[str], types: set[str]) -> SchemaSnapshot:
    """The part of a snapshot about `tables` and the enum `types` (public schema)."""
    return s.model_copy(
        update={
            "tables": {k: v for k, v in s.tables.items() if v.name in tables},
            "enums": {k: v for k, v in s.enums.items() if v.name in types},
            "views": {},
            "domains": {},
            "composite_types": {},
            "sequences": {},
            "functions": {},
            "extensions": {},
        }
    )


_CREATE_TABLE = re.compile(
    r"\bCREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:public\.)?\"?(\w+)", re.I
)
_CREATE_TYPE = re.compile(r"\bCREATE\s+TYPE\s+(?:public\.)?\"?(\w+)", re.I)


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("case_dir", CASE_DIRS, ids=CASE_IDS)
def test_case_files_valid(case_dir: Path) -> None:
    case = EvalCase.load(case_dir)
    assert case.request.strip() and not case.must_refuse
    before = _check_before_sql(case)
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


def _check_before_sql(case: EvalCase) -> str:
    before = case.before_sql()
    assert before.strip(), "before.sql is empty"
    meta = [line for line in before.splitlines() if line.lstrip().startswith("\\")]
    assert not meta, f"before.sql uses psql meta-commands: {meta}"
    return before


@pytest.mark.parametrize("case_dir", REFUSAL_DIRS, ids=[d.name for d in REFUSAL_DIRS])
def test_refusal_case_valid(sandbox: Sandbox, case_dir: Path) -> None:
    """No golden to prove: the case loads, its schema loads, [rows] names its tables."""
    case = EvalCase.load(case_dir)
    assert case.must_refuse and (case.refuse or "").strip()
    before = _check_before_sql(case)
    assert not re.search(r"\b(uuid-ossp|pgcrypto)\b", before), (
        "the embedded PG 18 lacks uuid-ossp and pgcrypto"
    )
    template = sandbox.template_from_sql(before, source=f"{case.id}/before.sql")
    with sandbox.scratch(template) as db:
        tables = {t.name for t in snap(db).tables.values()}
    assert tables, "before.sql creates no table"
    unknown = sorted(set(case.rows) - tables)
    assert not unknown, f"[rows] names unknown tables: {unknown}"


@pytest.mark.parametrize("case_dir", CASE_DIRS, ids=CASE_IDS)
def test_golden_is_lint_safe(case_dir: Path) -> None:
    """A golden must pass the `safe` check it sets for drafts: no lint errors at [rows]."""
    case = EvalCase.load(case_dir)
    source = case.golden_path.read_text(encoding="utf-8")
    for version in (150000, 180000):
        report = lint_revision_source(source, LintContext(rows=case.rows, pg_version=version))
        errors = [f"{f.rule}: {f.message}" for f in report.findings if f.severity == "error"]
        assert not errors, f"lint errors on the golden (PG {version // 10000}): {errors}"


DOMAINS = {
    "ecommerce", "users", "blog", "billing", "ticketing", "recipes", "payroll", "lms", "iot",
    "hr", "fleet", "events", "clinic", "library", "documents", "logistics", "banking",
    "real_estate", "sports", "travel", "gaming", "crm", "marketing", "saas", "insurance",
    "energy", "telecom", "legal", "streaming", "agriculture", "school", "pharmacy",
    "hospitality", "manufacturing", "nonprofit", "automotive", "publishing", "government",
    "fitness",
}  # fmt: skip


def test_enough_cases_and_categories() -> None:
    cases = EvalCase.load_all()
    assert len(cases) >= 120
    assert sum(c.refuse is not None for c in cases) >= 5, "requests that must be refused"
    assert sum("terse" in c.tags for c in cases) >= len(cases) // 4, "commit-message style"
    assert len({t for c in cases for t in c.tags} & DOMAINS) >= 15
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


def test_load_checks_refusal_cases(tmp_path: Path) -> None:
    case_dir = tmp_path / "ambiguous"
    case_dir.mkdir()
    (case_dir / "before.sql").write_text("CREATE TABLE t (id int);")
    toml = case_dir / "case.toml"
    toml.write_text('request = "make it required"\nrefuse = "   "\n')
    with pytest.raises(UsageError, match="refuse must say why"):
        EvalCase.load(case_dir)
    toml.write_text('request = "make it required"\nrefuse = "which column?"\n')
    case = EvalCase.load(case_dir)
    assert case.must_refuse and case.refuse == "which column?"
    (case_dir / "golden.py").write_text("revision = 'x'\ndown_revision = None\n")
    with pytest.raises(UsageError, match=r"refusal case .* has golden\.py"):
        EvalCase.load(case_dir)
    (case_dir / "golden.py").unlink()
    (case_dir / "checks.sql").write_text("SELECT 1;")
    with pytest.raises(UsageError, match=r"has checks\.sql"):
        EvalCase.load(case_dir)
    (case_dir / "checks.sql").unlink()
    toml.write_text('request = "x"\nrefuse = "why"\nexact_names = ["ix_t"]\n')
    with pytest.raises(UsageError, match="both refuse and exact_names"):
        EvalCase.load(case_dir)
    (case_dir / "before.sql").unlink()
    toml.write_text('request = "x"\nrefuse = "why"\n')
    with pytest.raises(UsageError, match=r"before\.sql is missing"):
        EvalCase.load(case_dir)


def _check_rows(db, case: EvalCase) -> list[list[tuple]]:
    """What each query of checks.sql returns now."""
    with db.connect() as conn:
        return [[tuple(r) for r in conn.execute(q).fetchall()] for q in case.checks()]


@pytest.mark.parametrize("case_dir", CASE_DIRS, ids=CASE_IDS)
def test_golden_round_trip(sandbox: Sandbox, case_dir: Path) -> None:
    case = EvalCase.load(case_dir)
    golden = load_golden(case)
    template = sandbox.template_from_sql(case.before_sql(), source=f"{case.id}/before.sql")
    with sandbox.scratch(template) as db:
        before = snap(db)
        pure_data = "pure_data" in case.tags  # the rows change, the schema not
        rows_before = _check_rows(db, case) if pure_data else []

        run_revision(db, golden, "upgrade")
        after = snap(db)
        if pure_data:
            assert case.checks(), "a pure_data case needs checks.sql"
            assert not differences(before, after), "a pure_data golden changed the schema"
            assert _check_rows(db, case) != rows_before, "the golden upgrade changed no rows"
        else:
            assert differences(before, after), "the golden upgrade changed no schema"
        indexes = [i for t in after.tables.values() for i in t.indexes]
        assert all(i.valid for i in indexes), "the golden left an invalid index"
        constraints = [c for t in after.tables.values() for c in t.constraints]
        assert all(c.validated for c in constraints), "the golden left a NOT VALID constraint"

        missing = [n for n in case.exact_names if n not in names_in(after)]
        assert not missing, f"exact_names not in the golden's schema: {missing}"
        tables = {t.name for t in [*before.tables.values(), *after.tables.values()]}
        unknown = sorted(set(case.rows) - tables)
        assert not unknown, f"[rows] names unknown tables: {unknown}"

        with db.connect() as conn:
            for query in case.checks():
                rows = conn.execute(query).fetchall()
                assert rows, f"check returned no rows: {query}"

        run_revision(db, golden, "downgrade")
        diff = differences(before, snap(db))
        assert not diff, f"downgrade did not restore the before.sql schema:\n{diff}"

        run_migration(db, golden, "upgrade", observe=False)
        diff = differences(after, snap(db))
        assert not diff, f"upgrade after downgrade gave another schema:\n{diff}"

    if case.desired is None:
        return
    # The desired file describes the tables the golden produces.
    desired = case.desired_sql() or ""
    desired_tables = set(_CREATE_TABLE.findall(desired))
    desired_types = set(_CREATE_TYPE.findall(desired))
    with sandbox.scratch(template) as db, db.connect(autocommit=True) as conn:
        for table in desired_tables:
            conn.execute(f'DROP TABLE IF EXISTS "{table}" CASCADE')
        for typ in desired_types:
            conn.execute(f'DROP TYPE IF EXISTS "{typ}" CASCADE')
        conn.execute(desired)
        wanted = only_tables(snapshot(conn), desired_tables, desired_types)
    diff = differences(wanted, only_tables(after, desired_tables, desired_types))
    assert not diff, f"the golden's tables differ from {case.desired}:\n{diff}"
