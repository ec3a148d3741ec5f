"""DDL rendering: readable, deterministic, and it loads back into the same schema."""

from __future__ import annotations

import pytest
from test_introspect import RICH_SCHEMA

from migagent.errors import UsageError
from migagent.tools.introspect import snapshot
from migagent.tools.introspect.ddl import ident, render_ddl
from migagent.tools.introspect.diff import diff_snapshots


def _snap(db):
    with db.connect() as conn:
        return snapshot(conn)


def test_rich_schema_round_trips(make_db) -> None:
    """Rendered DDL loads into an empty database and re-introspects equal."""
    before = _snap(make_db(RICH_SCHEMA))
    ddl = render_ddl(before)
    after = _snap(make_db(ddl))
    assert diff_snapshots(before, after).summary() == []

    # and rendering the copy gives the same text, bar the header (database name, and
    # the alembic_version row: DDL carries no data)
    def body(text: str) -> list[str]:
        return [ln for ln in text.splitlines() if not ln.startswith("-- ")]

    assert body(render_ddl(after)) == body(ddl)


def test_rendered_text(make_db) -> None:
    ddl = render_ddl(_snap(make_db(RICH_SCHEMA)))
    assert "-- Alembic revision: 3f2a1b9c0d4e" in ddl
    assert "CREATE SCHEMA app;" in ddl
    assert "CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;" in ddl
    assert "CREATE TYPE public.doc_status AS ENUM ('draft', 'review', 'published');" in ddl
    assert (
        "CREATE DOMAIN app.email AS text DEFAULT 'nobody@example.com'::text NOT NULL "
        "CONSTRAINT email_has_at CHECK ((VALUE ~~ '%@%'::text));"
    ) in ddl
    assert "CREATE SEQUENCE public.doc_number_seq AS integer START WITH 100 INCREMENT BY 5;" in ddl
    assert "    title character varying(255) NOT NULL,\n" in ddl
    assert '    slug text COLLATE "C",\n' in ddl
    assert "    id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,\n" in ddl
    assert "    title_length integer GENERATED ALWAYS AS (length((title)::text)) STORED,\n" in ddl
    assert "CREATE UNLOGGED TABLE public.cache_entries (" in ddl
    assert ") WITH (fillfactor=70);" in ddl
    assert ") PARTITION BY RANGE (happened_at);" in ddl
    assert "CREATE TABLE public.events_2024 PARTITION OF public.events\n    FOR VALUES FROM" in ddl
    # NOT VALID constraints are added after the table, as pg_dump does
    assert (
        "ALTER TABLE public.sections ADD CONSTRAINT sections_parent_fk FOREIGN KEY (parent_id) "
        "REFERENCES public.sections(id) DEFERRABLE INITIALLY DEFERRED NOT VALID;"
    ) in ddl
    assert "ALTER SEQUENCE public.doc_number_seq OWNED BY public.documents.number;" in ddl
    # constraint-backed indexes come from their constraints; partition indexes from the parent
    assert "CREATE UNIQUE INDEX documents_pkey" not in ddl
    assert "events_2024_payload_idx" not in ddl
    assert (
        "CREATE INDEX ix_events_payload ON public.events USING gin (payload jsonb_path_ops);" in ddl
    )
    assert "CREATE MATERIALIZED VIEW public.section_counts AS\n" in ddl
    assert (
        "CREATE POLICY documents_owner ON public.documents AS RESTRICTIVE FOR UPDATE TO PUBLIC"
        in ddl
    )
    assert (
        "COMMENT ON CONSTRAINT documents_title_not_blank ON public.documents IS 'no blank titles';"
        in ddl
    )
    # dependency order: types, functions, tables, referencing tables, indexes, views, triggers
    order = [
        "CREATE TYPE public.doc_status",
        "CREATE OR REPLACE FUNCTION public.touch_updated_at()",
        "CREATE TABLE public.documents",
        "CREATE TABLE public.sections",
        "CREATE INDEX ix_sections_search",
        "CREATE VIEW public.published_documents",
        "CREATE TRIGGER trg_documents_touch",
        "COMMENT ON TABLE public.documents",
    ]
    positions = [ddl.index(text) for text in order]
    assert positions == sorted(positions)
    # functions that need a table come after it: a SQL-standard body, a SETOF row type
    assert ddl.index("CREATE TABLE public.documents") < ddl.index(
        "FUNCTION public.document_count()"
    )
    assert ddl.index("CREATE TABLE public.documents") < ddl.index("public.recent_documents(")
    assert ddl.index("CREATE VIEW public.published_documents") < ddl.index(
        "CREATE TRIGGER trg_published_insert"
    )


def test_subset_of_tables(make_db) -> None:
    snap = _snap(make_db(RICH_SCHEMA))
    ddl = render_ddl(snap, ["documents"])
    assert "-- Tables: public.documents" in ddl
    assert "CREATE TABLE public.documents (" in ddl
    assert "CREATE TABLE public.sections" not in ddl
    # what documents needs comes along: its types, its sequence, its trigger function
    assert "CREATE TYPE public.doc_status AS ENUM" in ddl
    assert "CREATE DOMAIN app.email" in ddl
    assert "CREATE TYPE public.money_amount" in ddl
    assert "CREATE SEQUENCE public.doc_number_seq" in ddl
    assert "CREATE OR REPLACE FUNCTION public.touch_updated_at()" in ddl
    assert "add_one" not in ddl
    assert "CREATE VIEW" not in ddl
    assert "CREATE POLICY documents_published" in ddl
    # a partitioned table brings its partitions
    events = render_ddl(snap, ["public.events"])
    assert "PARTITION OF public.events" in events
    with pytest.raises(UsageError, match="table nope is not in the schema"):
        render_ddl(snap, ["nope"])


def test_quoting_and_foreign_key_cycles_round_trip(make_db) -> None:
    schema = """
    CREATE TABLE "Order Items" ("select" int PRIMARY KEY, "Note" text, b_id int);
    CREATE TABLE b (id int PRIMARY KEY, item int REFERENCES "Order Items" ("select"));
    ALTER TABLE "Order Items" ADD FOREIGN KEY (b_id) REFERENCES b (id);
    CREATE INDEX "Idx Note" ON "Order Items" ("Note");
    COMMENT ON COLUMN "Order Items"."select" IS 'it''s quoted';
    """
    before = _snap(make_db(schema))
    ddl = render_ddl(before)
    assert 'CREATE TABLE public."Order Items" (\n    "select" integer NOT NULL,' in ddl
    assert "IS 'it''s quoted';" in ddl
    # one side of the cycle has to wait for the other table
    assert ddl.count("ALTER TABLE public.") == 1
    assert diff_snapshots(before, _snap(make_db(ddl))).empty


def test_deterministic(make_db) -> None:
    snap = _snap(make_db(RICH_SCHEMA))
    assert render_ddl(snap) == render_ddl(snap.model_copy(deep=True))


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("users", "users"),
        ("user", '"user"'),
        ("Users", '"Users"'),
        ("a b", '"a b"'),
        ("x$1", "x$1"),
    ],
)
def test_ident(name: str, quoted: str) -> None:
    assert ident(name) == quoted
