"""The desired-schema path (issue 16), each miss on a two-line schema, on both servers.

Every draft is proven on a scratch copy, and the schema that copy has after the
upgrade must be the desired schema (desired.sql loaded into a template of its
own), compared by meaning with `tools/introspect/diff.py`.
"""

from __future__ import annotations

import sys

import pytest

from migagent.agent.errors import UnderstandingError
from migagent.agent.pipeline import DraftOptions, SchemaSource, draft
from migagent.tools.introspect import snapshot
from migagent.tools.introspect.diff import canonical_expressions, diff_snapshots
from migagent.tools.verify.revision import RevisionSource
from migagent.tools.verify.runner import run_migration

# slow: about 70 s on 2 cores: each case drafts from a desired schema and proves it
pytestmark = pytest.mark.slow


def _snap(sandbox, sql: str):
    template = sandbox.template_from_sql(sql, source="desired test")
    with sandbox.scratch(template) as db, db.connect() as conn:
        return snapshot(conn)


def _by_meaning(sandbox, sql: str, *others):
    """The snapshot of `sql`, and `others`, with expressions as this server normalises them
    (round-tripped in a copy of `sql`'s template)."""
    template = sandbox.template_from_sql(sql, source="desired test")
    with sandbox.scratch(template) as db, db.connect() as conn:
        return [canonical_expressions(conn, s) for s in (snapshot(conn), *others)]


def _upgraded(sandbox, current: str, source: str):
    """The schema after upgrade, and after upgrade -> downgrade, on a fresh copy."""
    template = sandbox.template_from_sql(current, source="current test")
    module = RevisionSource.from_text(source, name="t.py").load()
    with sandbox.scratch(template) as db:
        run_migration(db, module, "upgrade", observe=False)
        with db.connect() as conn:
            after = snapshot(conn)
        run_migration(db, module, "downgrade", observe=False)
        with db.connect() as conn:
            restored = snapshot(conn)
    return after, restored


def _draft(sandbox, current: str, desired: str, request: str = "match desired.sql", **kw):
    return draft(
        request,
        SchemaSource.sql(current),
        options=DraftOptions(desired_sql=desired, estimate=False, **kw),
        sandbox=sandbox,
    )


def _meaningful(diff) -> list[str]:
    """Differences (want -> got), less column order, Alembic's own table (Alembic writes it)
    and an extension the desired file does not create (it is kept)."""
    return [
        c.detail
        for c in diff.changes
        if "column order" not in c.detail
        and "alembic_version" not in c.name
        and not (c.object_type == "extension" and c.kind == "added")  # kept, by design
    ]


def assert_reproduces(sandbox, current: str, desired: str, **kw):
    result = _draft(sandbox, current, desired, **kw)
    assert result.verified, result.verification_detail + "\n" + result.revision_source
    after, restored = _upgraded(sandbox, current, result.revision_source)
    want, got = _by_meaning(sandbox, desired, after)
    assert not _meaningful(diff_snapshots(want, got)), result.revision_source
    before, back = _by_meaning(sandbox, current, restored)
    assert not _meaningful(diff_snapshots(before, back))
    return result


# ------------------------------------------------------------------ 1. serial
def test_new_table_with_serial_primary_key_creates_its_sequence(sandbox):
    current = "CREATE TABLE a (id int PRIMARY KEY);"
    desired = current + "\nCREATE TABLE canvas (id serial PRIMARY KEY, name text);"
    result = assert_reproduces(sandbox, current, desired)
    assert "canvas_id_seq" in result.revision_source


def test_new_serial_column_on_existing_table(sandbox):
    current = "CREATE TABLE a (id int PRIMARY KEY);"
    desired = "CREATE TABLE a (id int PRIMARY KEY, n bigserial);"
    assert_reproduces(sandbox, current, desired)


def test_virtual_generated_column_stays_virtual(sandbox):
    if sandbox.version < 180000:
        pytest.skip("VIRTUAL generated columns are PostgreSQL 18+")
    current = "CREATE TABLE a (id int PRIMARY KEY, x int);"
    desired = (
        "CREATE TABLE a (id int PRIMARY KEY, x int, y int GENERATED ALWAYS AS (x * 2) VIRTUAL);"
    )
    result = assert_reproduces(sandbox, current, desired)
    assert "persisted=False" in result.revision_source


# ------------------------------------------------------------------ 2. nulls not distinct
def test_unique_index_keeps_nulls_not_distinct(sandbox):
    if sandbox.version < 150000:
        pytest.skip("NULLS NOT DISTINCT is PostgreSQL 15+")
    # a new table: the generated rows of an existing one hold several NULL codes
    current = "CREATE TABLE a (id int PRIMARY KEY);"
    desired = current + (
        "\nCREATE TABLE b (id int PRIMARY KEY, code text);"
        "\nCREATE UNIQUE INDEX b_code_key ON b (code) NULLS NOT DISTINCT;"
    )
    result = assert_reproduces(sandbox, current, desired)
    assert "nulls_not_distinct=True" in result.revision_source


def test_unique_constraint_keeps_nulls_not_distinct(sandbox):
    if sandbox.version < 150000:
        pytest.skip("NULLS NOT DISTINCT is PostgreSQL 15+")
    current = "CREATE TABLE a (id int PRIMARY KEY, code text);"
    desired = (
        current + "\nCREATE TABLE b (id int PRIMARY KEY, code text UNIQUE NULLS NOT DISTINCT);"
    )
    assert_reproduces(sandbox, current, desired)


def test_verification_compares_with_the_desired_schema(sandbox):
    """A draft whose upgrade does not reproduce desired.sql must fail verification."""
    from migagent.agent import desired as D

    current = "CREATE TABLE a (id int PRIMARY KEY, code text);"
    desired = current + "\nCREATE INDEX a_code_idx ON a (code);"
    want = D.load_desired(sandbox, "template0", desired_sql=desired, models=None)
    wrong = _snap(sandbox, current)  # an upgrade that did nothing
    diffs = D.desired_mismatch(sandbox, want, wrong)
    assert diffs and any("a_code_idx" in d for d in diffs), diffs


# ------------------------------------------------------------------ 3. drops, views, functions, triggers
def test_dropped_table_is_dropped(sandbox):
    current = "CREATE TABLE a (id int PRIMARY KEY);\nCREATE TABLE b (id int PRIMARY KEY);"
    desired = "CREATE TABLE a (id int PRIMARY KEY);"
    result = assert_reproduces(sandbox, current, desired)
    assert "DROP TABLE public.b" in result.revision_source
    assert any("b is not in the desired schema" in w for w in result.plan.warnings)


def test_views_added_dropped_and_changed(sandbox):
    current = (
        "CREATE TABLE a (id int PRIMARY KEY, x int);\n"
        "CREATE VIEW gone AS SELECT id FROM a;\n"
        "CREATE VIEW v AS SELECT id FROM a;"
    )
    desired = (
        "CREATE TABLE a (id int PRIMARY KEY, x int);\n"
        "CREATE VIEW v AS SELECT id, x FROM a;\n"
        "CREATE VIEW w AS SELECT x FROM a WHERE x > 0;"
    )
    assert_reproduces(sandbox, current, desired)


def test_function_body_change_and_new_trigger(sandbox):
    fn = (
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN NEW.x := {}; RETURN NEW; END $$;"
    )
    current = "CREATE TABLE a (id int PRIMARY KEY, x int);\n" + fn.format(1)
    desired = (
        "CREATE TABLE a (id int PRIMARY KEY, x int);\n"
        + fn.format(2)
        + "\nCREATE TRIGGER a_touch BEFORE INSERT ON a FOR EACH ROW EXECUTE FUNCTION touch();"
    )
    result = assert_reproduces(sandbox, current, desired)
    assert "NEW.x := 1" in result.revision_source  # the downgrade restores the old body


def test_dropped_trigger_and_function(sandbox):
    current = (
        "CREATE TABLE a (id int PRIMARY KEY, x int);\n"
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN RETURN NEW; END $$;\n"
        "CREATE TRIGGER a_touch BEFORE INSERT ON a FOR EACH ROW EXECUTE FUNCTION touch();"
    )
    desired = "CREATE TABLE a (id int PRIMARY KEY, x int);"
    assert_reproduces(sandbox, current, desired)


def test_views_are_recreated_around_a_column_change(sandbox):
    """A (materialized) view reading a column whose type changes is dropped first and
    recreated after, with its index and comment."""
    table = "CREATE TABLE a (id int PRIMARY KEY, code varchar(10));\n"
    views = (
        "CREATE VIEW v AS SELECT id, code FROM a;\n"
        "CREATE MATERIALIZED VIEW m AS SELECT code, count(*) AS n FROM a GROUP BY code;\n"
        "CREATE UNIQUE INDEX m_code ON m (code);\n"
        "COMMENT ON MATERIALIZED VIEW m IS 'codes';\n"
    )
    desired = table.replace("varchar(10)", "text") + views
    assert_reproduces(sandbox, table + views, desired)


def test_dropped_serial_table_and_comments_and_enum_value(sandbox):
    current = (
        "CREATE TYPE mood AS ENUM ('sad', 'happy');\n"
        "CREATE TABLE a (id int PRIMARY KEY, m mood);\n"
        "CREATE TABLE gone (id serial PRIMARY KEY, a_id int REFERENCES a (id));"
    )
    desired = (
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');\n"
        "CREATE TABLE a (id int PRIMARY KEY, m mood);\n"
        "COMMENT ON TABLE a IS 'the a table';\n"
        "COMMENT ON COLUMN a.m IS 'how it feels';"
    )
    assert_reproduces(sandbox, current, desired)


def test_refusal_names_what_it_cannot_migrate(sandbox):
    current = "CREATE DOMAIN pos AS int CHECK (VALUE > 0);\nCREATE TABLE a (id int PRIMARY KEY);"
    desired = "CREATE DOMAIN pos AS int CHECK (VALUE > 1);\nCREATE TABLE a (id int PRIMARY KEY);"
    with pytest.raises(UnderstandingError) as info:
        _draft(sandbox, current, desired)
    assert "domain pos" in str(info.value) and "same as the current" not in str(info.value)


def test_same_schema_refusal_is_only_for_same_schemas(sandbox):
    current = "CREATE TABLE a (id int PRIMARY KEY);"
    with pytest.raises(UnderstandingError, match="same as the current"):
        _draft(sandbox, current, current)


# ------------------------------------------------------------------ 4. predicates by meaning
def test_partial_index_with_in_list_on_varchar(sandbox):
    current = "CREATE TABLE s (id int PRIMARY KEY, status varchar(20) NOT NULL);"
    desired = current + (
        "\nCREATE INDEX s_live_idx ON s (id) WHERE status IN ('trialing', 'active');"
    )
    assert_reproduces(sandbox, current, desired)


def test_equivalent_predicate_is_not_a_change(sandbox):
    """The current index was made from the deparsed text: same meaning, other text."""
    current = (
        "CREATE TABLE s (id int PRIMARY KEY, status varchar(20) NOT NULL);\n"
        "CREATE INDEX s_live_idx ON s (id) WHERE ((status)::text = ANY ("
        "(ARRAY['trialing'::character varying, 'active'::character varying])::text[]));"
    )
    desired = (
        "CREATE TABLE s (id int PRIMARY KEY, status varchar(20) NOT NULL, note text);\n"
        "CREATE INDEX s_live_idx ON s (id) WHERE status IN ('trialing', 'active');"
    )
    result = assert_reproduces(sandbox, current, desired)
    assert "s_live_idx" not in result.revision_source


def test_different_predicates_stay_different(sandbox):
    table = "CREATE TABLE s (id int PRIMARY KEY, status varchar(20) NOT NULL);\n"
    one = table + "CREATE INDEX s_idx ON s (id) WHERE status IN ('trialing', 'active');"
    same = table + (
        "CREATE INDEX s_idx ON s (id) WHERE ((status)::text = ANY ("
        "(ARRAY['trialing'::character varying, 'active'::character varying])::text[]));"
    )
    other = table + "CREATE INDEX s_idx ON s (id) WHERE status IN ('trialing', 'paused');"
    a, b, c = _by_meaning(sandbox, one, _snap(sandbox, same), _snap(sandbox, other))
    assert diff_snapshots(_snap(sandbox, one), _snap(sandbox, same)).changes  # by text
    assert not diff_snapshots(a, b).changes  # by meaning
    assert diff_snapshots(a, c).changes


# ------------------------------------------------------------------ 5. --models
BASE = """
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
"""

ACCOUNTS = """
import enum

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Status(enum.Enum):
    active = "active"
    closed = "closed"


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(sa.Identity(), primary_key=True)
    email: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    status: Mapped[Status] = mapped_column(
        sa.Enum(Status, name="account_status"), server_default="active"
    )
    score: Mapped[int] = mapped_column(server_default=sa.text("0"))
    double: Mapped[int | None] = mapped_column(sa.Computed("score * 2", persisted=True))
    tags: Mapped[list[str] | None] = mapped_column(postgresql.ARRAY(sa.Text))
    __table_args__ = (
        sa.Index("accounts_live_idx", "email", postgresql_where=sa.text("status = 'active'")),
        sa.Index("accounts_tags_idx", "tags", postgresql_using="gin"),
    )
"""

EVENTS = """
import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Event(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(always=True), primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"))
    at: Mapped[datetime.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
"""


def test_models_path(sandbox, tmp_path, monkeypatch):
    """A models package of several modules: enum, server defaults, Identity, Computed,
    a partial and a GIN index, a new table with a foreign key."""
    pkg = tmp_path / "mig_models_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from . import accounts, events  # noqa: F401\n")
    (pkg / "base.py").write_text(BASE)
    (pkg / "accounts.py").write_text(ACCOUNTS)
    (pkg / "events.py").write_text(EVENTS)
    monkeypatch.syspath_prepend(str(tmp_path))
    current = "CREATE TABLE accounts (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY);"
    try:
        result = draft(
            "sync with the models",
            SchemaSource.sql(current),
            options=DraftOptions(models="mig_models_pkg.base:Base", estimate=False),
            sandbox=sandbox,
        )
    finally:
        for name in [m for m in sys.modules if m.startswith("mig_models_pkg")]:
            sys.modules.pop(name)
    assert result.verified, result.verification_detail + "\n" + result.revision_source
    after, _ = _upgraded(sandbox, current, result.revision_source)
    t = after.table("accounts")
    assert [c.name for c in t.columns] == ["id", "email", "status", "score", "double", "tags"]
    assert t.column("double").generated
    assert any(i.name == "accounts_live_idx" and i.predicate for i in t.indexes)
    assert any(i.name == "accounts_tags_idx" and i.method == "gin" for i in t.indexes)
    assert "public.account_status" in after.enums
    events = after.table("events")
    assert events.column("id").identity == "always"
    assert any(k.kind == "foreign_key" and k.on_delete == "CASCADE" for k in events.constraints)


# ------------------------------------------------------------------ every kind at once
def test_every_object_kind_from_nothing(sandbox):
    """test_introspect's rich schema (extension, schema, enum, domain, composite type,
    partitions, unlogged table, identity, generated, collation, exclusion, deferrable
    FK, RLS and policies, views, a materialized view, functions, a procedure, triggers,
    comments) drafted from an empty database: verifies and reproduces it exactly."""
    from test_introspect import RICH_SCHEMA

    assert_reproduces(sandbox, "SELECT 1;", RICH_SCHEMA)


def test_every_object_kind_dropped(sandbox):
    """The rich schema against an empty desired schema: everything is dropped in an order
    the server accepts (views, functions reading the tables, tables, types), and the
    downgrade recreates every object exactly (sequence parameters, UNLOGGED, storage
    options, partitions, comments). alembic_version is never touched."""
    from test_introspect import RICH_SCHEMA

    result = assert_reproduces(sandbox, RICH_SCHEMA, "SELECT 1;")
    assert "alembic_version" not in result.revision_source
    assert any("dropped with its rows" in w for w in result.plan.warnings)


def test_every_object_kind_changed(sandbox):
    """The rich schema with a change of each kind: an enum value, a sequence's
    increment, plpgsql and SQL-body function bodies, a view's definition and another's
    comment, a materialized view's index, a policy, a column type under a view."""
    from test_introspect import RICH_SCHEMA

    edits = [
        ("('draft', 'review', 'published')", "('draft', 'review', 'published', 'archived')"),
        ("START 100 INCREMENT 5", "START 100 INCREMENT 10"),
        ("NEW.updated_at := now();", "NEW.updated_at := clock_timestamp();"),
        ("SELECT count(*) FROM documents;", "SELECT count(*) FROM documents WHERE true;"),
        ("FOR SELECT TO PUBLIC", "FOR ALL TO PUBLIC"),
        ("'what readers see'", "'what readers read'"),
        (
            "SELECT document_id, count(*) AS sections FROM sections GROUP BY document_id;",
            "SELECT document_id, count(*) AS sections, 1 AS one FROM sections GROUP BY document_id;",
        ),
    ]
    desired = RICH_SCHEMA
    for old, new in edits:
        assert old in desired, old
        desired = desired.replace(old, new)
    assert_reproduces(sandbox, RICH_SCHEMA, desired)
