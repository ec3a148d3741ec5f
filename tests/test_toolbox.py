"""The agent toolbox on real databases: schema tools, read-only queries, scratch SQL."""

from __future__ import annotations

import os

import psycopg
import pytest

from migagent.agent.toolbox import Toolbox, ToolboxError, check_read_only

# slow: about 35 s on 2 cores: every Claude tool runs on scratch copies, verify and estimate in fenced child processes
pytestmark = pytest.mark.slow

SCHEMA = """
CREATE TABLE authors (id bigserial PRIMARY KEY, name text NOT NULL);
CREATE TABLE books (
    id bigserial PRIMARY KEY,
    author_id bigint REFERENCES authors (id),
    title text
);
CREATE VIEW book_titles AS SELECT b.title, a.name FROM books b JOIN authors a ON a.id = b.author_id;
INSERT INTO authors (name) VALUES ('ada'), ('brian'), ('cleo');
"""


@pytest.fixture
def target(make_db):
    """The user's database (a scratch database standing in for it)."""
    return make_db(SCHEMA)


@pytest.fixture
def toolbox(sandbox, target):
    return Toolbox.for_target(target.url, sandbox=sandbox, rows={"books": 5_000_000})


def _count_authors(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM authors").fetchone()[0]


def test_introspect_schema_lists_tables_with_sizes_and_rows_override(toolbox):
    summary = toolbox.introspect_schema()
    tables = {t.name: t for t in summary.tables}
    assert set(tables) == {"public.authors", "public.books"}
    assert tables["public.books"].rows == 5_000_000
    assert tables["public.books"].rows_basis == "--rows"
    assert tables["public.books"].large is True
    assert tables["public.authors"].large is False
    assert summary.views == ["public.book_titles"]
    assert summary.source.startswith("target database")
    assert toolbox.schema_summary().tables == summary.tables  # the MCP-facing alias


def test_describe_table_includes_incoming_foreign_keys_and_views(toolbox):
    desc = toolbox.describe_table("authors")
    assert desc.table.qualified_name == "public.authors"
    assert [c.name for c in desc.table.columns] == ["id", "name"]
    assert [(r.table, r.constraint) for r in desc.referenced_by] == [
        ("public.books", "books_author_id_fkey")
    ]
    assert desc.views_using == ["public.book_titles"]


def test_describe_unknown_table_names_the_tables_there_are(toolbox):
    with pytest.raises(ToolboxError, match=r"no table named 'nope'.*public\.authors"):
        toolbox.describe_table("nope")


def test_table_stats_on_target_and_unknown_names(toolbox):
    stats = toolbox.table_stats(["authors", "public.books", "missing"])
    by_name = {s.table: s for s in stats.tables}
    assert by_name["public.books"].rows == 5_000_000 and by_name["public.books"].large
    # authors was never analysed and is small: counted exactly
    assert (by_name["public.authors"].rows, by_name["public.authors"].rows_basis) == (3, "counted")
    assert by_name["public.authors"].index_bytes > 0
    assert stats.not_found == ["missing"]
    with pytest.raises(ToolboxError, match="no such tables"):
        toolbox.table_stats(["missing"])


def test_table_stats_counts_rows_of_a_schema_file(sandbox, tmp_path):
    path = tmp_path / "schema.sql"
    path.write_text(SCHEMA)
    box = Toolbox.for_schema_file(path, sandbox=sandbox)
    (stat,) = box.table_stats(["authors"]).tables
    assert (stat.rows, stat.rows_basis) == (3, "counted")


def test_query_target_returns_rows_capped(toolbox):
    result = toolbox.query_target("SELECT id, name FROM authors ORDER BY id", limit=2)
    assert result.columns == ["id", "name"]
    assert result.rows == [[1, "ada"], [2, "brian"]]
    assert result.truncated is True
    full = toolbox.query_target("SELECT count(*) AS n FROM authors;")
    assert full.rows == [[3]] and not full.truncated


def test_query_target_explain_without_analyze(toolbox):
    result = toolbox.query_target("EXPLAIN (COSTS OFF) SELECT * FROM authors WHERE id = 1")
    assert result.columns == ["QUERY PLAN"]
    assert any("authors" in row[0] for row in result.rows)


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("DELETE FROM authors", "only SELECT or EXPLAIN"),
        ("UPDATE authors SET name = 'x'", "only SELECT or EXPLAIN"),
        ("DROP TABLE authors", "only SELECT or EXPLAIN"),
        ("EXPLAIN ANALYZE DELETE FROM authors", "EXPLAIN ANALYZE"),
        ("EXPLAIN (ANALYZE) SELECT 1", "EXPLAIN ANALYZE"),
        ("EXPLAIN DELETE FROM authors", "only EXPLAIN of a SELECT"),
        ("SELECT 1; DELETE FROM authors", "exactly one statement"),
        ("WITH d AS (DELETE FROM authors RETURNING *) SELECT * FROM d", "data-modifying"),
        ("SELECT * INTO copy FROM authors", "SELECT INTO"),
        ("SELECT * FROM authors FOR UPDATE", "FOR UPDATE"),
        ("SELECT pg_terminate_backend(pg_backend_pid())", "pg_terminate_backend"),
        ("SELECT pg_catalog.set_config('x.y', '1', false)", "set_config"),
        ("SELEC 1", "does not parse"),
    ],
)
def test_query_target_refuses_anything_but_reads(toolbox, target, sql, reason):
    with pytest.raises(ToolboxError, match=reason):
        toolbox.query_target(sql)
    assert _count_authors(target.url) == 3


def test_explain_analyze_false_is_allowed():
    check_read_only("EXPLAIN (ANALYZE false) SELECT 1")


def test_volatile_functions_are_refused_before_they_run(toolbox, target):
    # nextval() is VOLATILE in the target's pg_proc (tests/test_attacks_query.py has the rest)
    with pytest.raises(ToolboxError, match="nextval is VOLATILE"):
        toolbox.query_target("SELECT nextval('authors_id_seq')")
    assert _count_authors(target.url) == 3


def test_query_target_statement_timeout(sandbox, target):
    box = Toolbox.for_target(target.url, sandbox=sandbox)
    box.query_timeout_ms = 200
    with pytest.raises(ToolboxError, match="statement timeout"):
        box.query_target("SELECT count(*) FROM generate_series(1, 100000000)")


def test_run_sql_in_scratch_runs_on_a_copy_and_stops_at_the_first_error(toolbox, target, sandbox):
    result = toolbox.run_sql_in_scratch(
        "INSERT INTO authors (name) VALUES ('ada'), ('bo'), ('cy');"
        "ALTER TABLE authors ADD COLUMN email text;"
        "UPDATE authors SET email = name || '@x';"
        "SELECT name, email FROM authors ORDER BY id LIMIT 1;"
        "SELECT 1/0;"
        "SELECT 2"
    )
    assert not result.ok
    assert [r.status for r in result.results] == [
        "INSERT 0 3",
        "ALTER TABLE",
        "UPDATE 3",
        "SELECT 1",
    ]
    assert result.results[3].rows == [["ada", "ada@x"]]
    assert result.error == "division by zero"
    assert result.failed_statement == "SELECT 1/0"
    # the target and the template are untouched (the copy has the schema, not the rows);
    # the scratch database is gone
    with psycopg.connect(target.url) as conn:
        cols = conn.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'authors'"
        ).fetchone()[0]
    assert cols == 2
    assert toolbox.run_sql_in_scratch("SELECT count(*) FROM authors").results[0].rows == [[0]]
    with sandbox.admin() as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname LIKE %s AND datname <> %s",
            (f"migagent\\_s\\_{os.getpid()}\\_%", target.name),
        ).fetchone()[0]
    assert left == 0


def test_run_sql_in_scratch_rejects_unparseable_sql(toolbox):
    with pytest.raises(ToolboxError, match="no SQL statement"):
        toolbox.run_sql_in_scratch("  ")


def test_submit_before_verify_is_refused(toolbox):
    source = 'revision = "a1"\ndown_revision = None\n\ndef upgrade():\n    pass\n'
    with pytest.raises(ToolboxError, match="has not been verified"):
        toolbox.submit_draft(
            source, {"purpose": {"summary": "x"}, "alembic": {"file_name": "x.py"}}
        )
    assert toolbox.submission is None


REVISION = '''"""{message}"""

import sqlalchemy as sa
from alembic import op

revision = "0a1b2c3d4e5f"
down_revision = None


def upgrade() -> None:
    op.execute("SET lock_timeout = '5s'")
{upgrade}


def downgrade() -> None:
    op.execute("SET lock_timeout = '5s'")
{downgrade}
'''

ADD_EMAIL = REVISION.format(
    message="add email to authors",
    upgrade='    op.add_column("authors", sa.Column("email", sa.Text()))',
    downgrade='    op.drop_column("authors", "email")',
)
SPEC = {"purpose": {"summary": "Add email"}, "alembic": {"file_name": "add_email.py"}}


def test_verify_lint_and_submit_only_what_passed(toolbox):
    broken = ADD_EMAIL.replace('    op.drop_column("authors", "email")', "    pass")
    failed = toolbox.verify_revision(broken)
    assert not failed.ok and failed.details["downgrade_residue"]
    with pytest.raises(ToolboxError, match="last verification of this source failed"):
        toolbox.submit_draft(broken, SPEC)

    passed = toolbox.verify_revision(ADD_EMAIL)
    assert passed.ok, passed.summary
    assert passed.details["schema_changes"] == ["column authors.email added: text, nullable"]
    # whitespace around the source does not make it a different revision
    accepted = toolbox.submit_draft("\n" + ADD_EMAIL + "\n\n", SPEC)
    assert accepted.accepted
    sub = toolbox.submission
    assert sub is not None and sub.verification.passed
    assert sub.lint is not None and sub.lint.errors == 0  # linted on submit when not yet linted
    assert sub.spec.revision_source.strip() == ADD_EMAIL.strip()


def test_submit_with_lint_errors_is_refused(toolbox):
    # books is large (--rows 5M): a plain CREATE INDEX blocks writes for the whole build
    source = REVISION.format(
        message="index books.title",
        upgrade='    op.create_index("ix_books_title", "books", ["title"])',
        downgrade='    op.drop_index("ix_books_title", table_name="books")',
    )
    assert toolbox.verify_revision(source).ok
    lint = toolbox.lint_revision(source)
    assert not lint.ok
    assert any(f["severity"] == "error" for f in lint.details["findings"])
    with pytest.raises(ToolboxError, match=r"lint found \d+ error"):
        toolbox.submit_draft(source, SPEC)
    assert toolbox.submission is None


def test_verify_reports_a_revision_that_does_not_import(toolbox):
    result = toolbox.verify_revision(ADD_EMAIL.replace("op.add_column", "op.add_colum"))
    assert not result.ok
    assert "add_colum" in result.summary
    with pytest.raises(ToolboxError, match="not an Alembic revision"):
        toolbox.verify_revision("SELECT 1")


def test_estimate_times_the_upgrade_and_extrapolates_to_the_target_size(toolbox):
    result = toolbox.estimate_revision(ADD_EMAIL)
    assert result.tool == "estimate" and result.ok
    points = result.details["points"]
    assert len(points) >= 2 and all(p["seconds"] >= 0 for p in points)
    assert [p["rows"] for p in points] == sorted(p["rows"] for p in points)
