"""Introspection on real servers: every kind of catalog object lands in the snapshot."""

from __future__ import annotations

import pytest

from migagent.tools.introspect import snapshot, snapshot_url
from migagent.tools.introspect.model import SchemaSnapshot

# A schema with one of everything introspection knows about. Reused by the DDL
# and diff tests.
RICH_SCHEMA = r"""
CREATE EXTENSION btree_gist;
CREATE SCHEMA app;

CREATE TYPE doc_status AS ENUM ('draft', 'review', 'published');
CREATE DOMAIN app.email AS text
    CONSTRAINT email_has_at CHECK (VALUE LIKE '%@%') NOT NULL DEFAULT 'nobody@example.com';
CREATE TYPE money_amount AS (currency char(3), cents bigint);
COMMENT ON TYPE doc_status IS 'lifecycle of a document';

CREATE SEQUENCE doc_number_seq AS integer START 100 INCREMENT 5 CACHE 1;

CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
CREATE FUNCTION add_one(i integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT i + 1';
COMMENT ON FUNCTION add_one(integer) IS 'adds one';

CREATE TABLE documents (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    number integer NOT NULL DEFAULT nextval('doc_number_seq'),
    title varchar(255) NOT NULL,
    slug text COLLATE "C",
    status doc_status NOT NULL DEFAULT 'draft',
    owner_email app.email,
    price money_amount,
    title_length integer GENERATED ALWAYS AS (length(title)) STORED,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz,
    CONSTRAINT documents_title_not_blank CHECK (btrim(title) <> ''),
    CONSTRAINT documents_slug_key UNIQUE (slug)
);
ALTER SEQUENCE doc_number_seq OWNED BY documents.number;
COMMENT ON TABLE documents IS 'every document';
COMMENT ON COLUMN documents.title IS 'human title';
COMMENT ON CONSTRAINT documents_title_not_blank ON documents IS 'no blank titles';

CREATE TABLE sections (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id uuid NOT NULL REFERENCES documents (id) ON DELETE CASCADE ON UPDATE RESTRICT,
    parent_id bigint,
    title text NOT NULL,
    content text,
    position integer NOT NULL DEFAULT 0,
    search_vector tsvector GENERATED ALWAYS AS (to_tsvector('english', coalesce(content, ''))) STORED,
    UNIQUE NULLS NOT DISTINCT (document_id, position)
);
ALTER TABLE sections ADD CONSTRAINT sections_parent_fk
    FOREIGN KEY (parent_id) REFERENCES sections (id) DEFERRABLE INITIALLY DEFERRED NOT VALID;
CREATE INDEX ix_sections_search ON sections USING gin (search_vector);
CREATE INDEX ix_sections_title_lower ON sections (lower(title) text_pattern_ops)
    INCLUDE (position) WHERE content IS NOT NULL;
COMMENT ON INDEX ix_sections_title_lower IS 'prefix search';
CREATE TRIGGER trg_sections_dummy BEFORE UPDATE ON sections
    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title) EXECUTE FUNCTION touch_updated_at();

CREATE TRIGGER trg_documents_touch BEFORE UPDATE ON documents
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
COMMENT ON TRIGGER trg_documents_touch ON documents IS 'keeps updated_at fresh';

CREATE TABLE app.bookings (
    id serial PRIMARY KEY,
    room int NOT NULL,
    during tstzrange NOT NULL,
    CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&)
);

CREATE TABLE events (
    id bigint NOT NULL,
    happened_at timestamptz NOT NULL,
    payload jsonb,
    PRIMARY KEY (id, happened_at)
) PARTITION BY RANGE (happened_at);
CREATE TABLE events_2024 PARTITION OF events
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_2025 PARTITION OF events
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE INDEX ix_events_payload ON events USING gin (payload jsonb_path_ops);

CREATE UNLOGGED TABLE cache_entries (key text PRIMARY KEY, value bytea) WITH (fillfactor = 70);

ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
CREATE POLICY documents_published ON documents FOR SELECT TO PUBLIC
    USING (status = 'published');
CREATE POLICY documents_owner ON documents AS RESTRICTIVE FOR UPDATE
    USING (owner_email = current_user) WITH CHECK (owner_email = current_user);

CREATE VIEW published_documents AS
    SELECT id, title, created_at FROM documents WHERE status = 'published';
COMMENT ON VIEW published_documents IS 'what readers see';
CREATE FUNCTION published_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO documents (id, title, status) VALUES (NEW.id, NEW.title, 'published');
    RETURN NEW;
END;
$$;
CREATE TRIGGER trg_published_insert INSTEAD OF INSERT ON published_documents
    FOR EACH ROW EXECUTE FUNCTION published_insert();
-- functions that need tables: a SQL-standard body, and a row type
CREATE FUNCTION document_count() RETURNS bigint LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT count(*) FROM documents;
END;
CREATE FUNCTION recent_documents(n integer) RETURNS SETOF documents LANGUAGE sql STABLE
    AS 'SELECT * FROM documents ORDER BY created_at DESC LIMIT n';
CREATE MATERIALIZED VIEW section_counts AS
    SELECT document_id, count(*) AS sections FROM sections GROUP BY document_id;
CREATE UNIQUE INDEX ix_section_counts_doc ON section_counts (document_id);

CREATE TABLE alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY);
INSERT INTO alembic_version VALUES ('3f2a1b9c0d4e');

INSERT INTO documents (title, slug, status)
    SELECT 'Document ' || g, 'doc-' || g, 'published' FROM generate_series(1, 200) g;
ANALYZE documents;
"""


@pytest.fixture
def rich(make_db) -> SchemaSnapshot:
    db = make_db(RICH_SCHEMA)
    with db.connect() as conn:
        return snapshot(conn)


def test_tables_schemas_and_statistics(rich: SchemaSnapshot) -> None:
    assert rich.schemas == ["app", "public"]
    assert set(rich.tables) == {
        "public.documents",
        "public.sections",
        "app.bookings",
        "public.events",
        "public.events_2024",
        "public.events_2025",
        "public.cache_entries",
        "public.alembic_version",
    }
    docs = rich.table("documents")
    assert docs is rich.tables["public.documents"]
    assert docs.qualified_name == "public.documents"
    assert docs.row_estimate == 200
    assert rich.row_counts()["public.documents"] == 200
    assert docs.total_bytes > docs.table_bytes > 0
    assert docs.comment == "every document"
    assert rich.table("bookings").schema_name == "app"
    assert rich.alembic_revisions == ["3f2a1b9c0d4e"]
    assert rich.server_version >= 150000


def test_columns(rich: SchemaSnapshot) -> None:
    docs = rich.tables["public.documents"]
    assert [c.name for c in docs.columns][:3] == ["id", "number", "title"]
    title = docs.column("title")
    assert (title.type, title.nullable, title.comment) == (
        "character varying(255)",
        False,
        "human title",
    )
    assert docs.column("id").default == "gen_random_uuid()"
    assert docs.column("number").default == "nextval('public.doc_number_seq'::regclass)"
    assert docs.column("status").type == "public.doc_status"
    assert docs.column("status").default == "'draft'::public.doc_status"
    assert docs.column("slug").collation == '"C"'
    assert docs.column("title").collation is None
    assert docs.column("owner_email").type == "app.email"
    length = docs.column("title_length")
    assert (length.generated, length.generated_kind, length.default) == (
        "length((title)::text)",
        "stored",
        None,
    )
    sections = rich.tables["public.sections"]
    assert sections.column("id").identity == "always"
    assert sections.column("search_vector").generated_kind == "stored"
    assert "to_tsvector" in sections.column("search_vector").generated


def test_constraints(rich: SchemaSnapshot) -> None:
    docs = {c.name: c for c in rich.tables["public.documents"].constraints}
    assert docs["documents_pkey"].kind == "primary_key"
    assert docs["documents_pkey"].index == "documents_pkey"
    assert docs["documents_slug_key"].kind == "unique"
    check = docs["documents_title_not_blank"]
    assert (check.kind, check.comment) == ("check", "no blank titles")
    assert check.definition == "CHECK ((btrim((title)::text) <> ''::text))"
    sections = {c.name: c for c in rich.tables["public.sections"].constraints}
    fk = sections["sections_document_id_fkey"]
    assert (fk.kind, fk.ref_table, fk.columns, fk.ref_columns) == (
        "foreign_key",
        "public.documents",
        ["document_id"],
        ["id"],
    )
    assert (fk.on_delete, fk.on_update, fk.validated) == ("CASCADE", "RESTRICT", True)
    parent = sections["sections_parent_fk"]
    assert (parent.validated, parent.deferrable, parent.initially_deferred) == (False, True, True)
    assert parent.definition.endswith("NOT VALID")
    assert parent.on_delete == "NO ACTION"
    nnd = sections["sections_document_id_position_key"]
    assert nnd.definition == 'UNIQUE NULLS NOT DISTINCT (document_id, "position")'
    excl = {c.name: c for c in rich.tables["app.bookings"].constraints}["no_overlap"]
    assert excl.kind == "exclusion"
    assert excl.definition == "EXCLUDE USING gist (room WITH =, during WITH &&)"
    # NOT NULL is a column property, on every server version
    assert {c.kind for c in rich.tables["public.documents"].constraints} == {
        "primary_key",
        "unique",
        "check",
    }


def test_indexes(rich: SchemaSnapshot) -> None:
    idx = {i.name: i for i in rich.tables["public.sections"].indexes}
    gin = idx["ix_sections_search"]
    assert (gin.method, gin.keys, gin.unique, gin.constraint) == (
        "gin",
        ["search_vector"],
        False,
        None,
    )
    expr = idx["ix_sections_title_lower"]
    assert expr.keys == ["lower(title)"]
    assert expr.opclasses == ["text_pattern_ops"]
    assert expr.include == ["position"]
    assert expr.predicate == "(content IS NOT NULL)"
    assert expr.comment == "prefix search"
    assert expr.definition.startswith("CREATE INDEX ix_sections_title_lower ON public.sections")
    pk = idx["sections_pkey"]
    assert (pk.primary, pk.unique, pk.constraint, pk.valid) == (True, True, "sections_pkey", True)
    nnd = idx["sections_document_id_position_key"]
    assert nnd.nulls_not_distinct
    assert nnd.keys == ["document_id", "position"]
    assert nnd.opclasses == [None, None]
    events = {i.name: i for i in rich.tables["public.events_2024"].indexes}
    child = next(i for i in events.values() if i.method == "gin")
    assert child.parent == "public.ix_events_payload"
    assert child.opclasses == ["jsonb_path_ops"]
    assert any(i.size_bytes > 0 for i in rich.tables["public.documents"].indexes)


def test_invalid_index(make_db) -> None:
    db = make_db("CREATE TABLE t (a int); INSERT INTO t VALUES (1), (1);")
    with db.connect(autocommit=True) as conn:
        with pytest.raises(Exception, match="could not create unique index"):
            conn.execute("CREATE UNIQUE INDEX CONCURRENTLY ix_t_a ON t (a)")
        snap = snapshot(conn)
    (index,) = snap.tables["public.t"].indexes
    assert (index.name, index.valid, index.unique) == ("ix_t_a", False, True)


def test_partitions_and_table_options(rich: SchemaSnapshot) -> None:
    events = rich.tables["public.events"]
    assert events.kind == "partitioned"
    assert events.partition_key == "RANGE (happened_at)"
    part = rich.tables["public.events_2024"]
    assert part.kind == "table"
    assert part.partition_of == "public.events"
    assert part.partition_bound.startswith("FOR VALUES FROM ('2024-01-01 00:00:00")
    assert all(c.inherited for c in part.columns)
    assert all(c.inherited for c in part.constraints)
    cache = rich.tables["public.cache_entries"]
    assert cache.persistence == "unlogged"
    assert cache.options == ["fillfactor=70"]


def test_types_sequences_functions_extensions(rich: SchemaSnapshot) -> None:
    status = rich.enums["public.doc_status"]
    assert status.labels == ["draft", "review", "published"]
    assert status.comment == "lifecycle of a document"
    email = rich.domains["app.email"]
    assert (email.base_type, email.nullable) == ("text", False)
    assert email.default == "'nobody@example.com'::text"
    assert email.checks == ["CONSTRAINT email_has_at CHECK ((VALUE ~~ '%@%'::text))"]
    assert rich.composite_types["public.money_amount"].attributes == [
        ("currency", "character(3)"),
        ("cents", "bigint"),
    ]
    seq = rich.sequences["public.doc_number_seq"]
    assert (seq.data_type, seq.start, seq.increment, seq.owned_by) == (
        "integer",
        100,
        5,
        "public.documents.number",
    )
    assert rich.sequences["app.bookings_id_seq"].owned_by == "app.bookings.id"
    # an identity column's sequence belongs to the column, not the list
    assert not any("sections_id_seq" in k for k in rich.sequences)
    touch = rich.functions["public.touch_updated_at()"]
    assert (touch.language, touch.returns, touch.kind) == ("plpgsql", "trigger", "function")
    assert "NEW.updated_at := now();" in touch.definition
    add_one = rich.functions["public.add_one(i integer)"]
    assert (add_one.language, add_one.comment) == ("sql", "adds one")
    # btree_gist's hundreds of functions belong to the extension, not the schema
    assert set(rich.functions) == {
        "public.touch_updated_at()",
        "public.add_one(i integer)",
        "public.published_insert()",
        "public.document_count()",
        "public.recent_documents(n integer)",
    }
    assert rich.functions["public.document_count()"].sql_body
    assert not add_one.sql_body
    assert rich.functions["public.recent_documents(n integer)"].returns == "SETOF public.documents"
    assert set(rich.extensions) == {"btree_gist"}
    assert rich.extensions["btree_gist"].schema_name == "public"


def test_views_triggers_policies(rich: SchemaSnapshot) -> None:
    view = rich.views["public.published_documents"]
    assert not view.materialized
    assert [c.name for c in view.columns] == ["id", "title", "created_at"]
    assert "WHERE" in view.definition and "published" in view.definition
    assert view.depends_on == ["public.documents"]
    assert view.comment == "what readers see"
    assert [t.name for t in view.triggers] == ["trg_published_insert"]
    assert "INSTEAD OF INSERT ON public.published_documents" in view.triggers[0].definition
    mat = rich.views["public.section_counts"]
    assert mat.materialized
    assert [(i.name, i.unique) for i in mat.indexes] == [("ix_section_counts_doc", True)]
    docs = rich.tables["public.documents"]
    (trigger,) = docs.triggers
    assert trigger.name == "trg_documents_touch"
    assert trigger.definition == (
        "CREATE TRIGGER trg_documents_touch BEFORE UPDATE ON public.documents "
        "FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at()"
    )
    assert (trigger.enabled, trigger.comment) == ("origin", "keeps updated_at fresh")
    # foreign-key triggers are internal and never listed
    assert [t.name for t in rich.tables["public.sections"].triggers] == ["trg_sections_dummy"]
    assert docs.rls_enabled and not docs.rls_forced
    policies = {p.name: p for p in docs.policies}
    pub = policies["documents_published"]
    assert (pub.command, pub.permissive, pub.roles) == ("SELECT", True, ["public"])
    assert pub.using == "(status = 'published'::public.doc_status)"
    owner = policies["documents_owner"]
    assert (owner.command, owner.permissive, owner.with_check is not None) == (
        "UPDATE",
        False,
        True,
    )


def test_snapshot_is_deterministic_and_serialises(make_db) -> None:
    db = make_db(RICH_SCHEMA)
    with db.connect() as conn:
        one = snapshot(conn)
    with db.connect() as conn:
        conn.execute("SET search_path = app, public")
        two = snapshot(conn)
        # the caller's search_path is left alone
        assert conn.execute("SHOW search_path").fetchone()[0] == "app, public"
    assert one.model_dump_json() == two.model_dump_json()
    assert SchemaSnapshot.model_validate_json(one.model_dump_json()) == one


def test_read_only_transaction_and_snapshot_url(make_db) -> None:
    db = make_db(RICH_SCHEMA)
    with db.connect() as conn:
        conn.execute("SET TRANSACTION READ ONLY")
        snap = snapshot(conn)
        assert conn.execute("SHOW transaction_read_only").fetchone()[0] == "on"
    assert snap.tables.keys() == snapshot_url(db.url).tables.keys()


def test_schemas_filter_and_empty_database(make_db, scratch) -> None:
    db = make_db(RICH_SCHEMA)
    with db.connect() as conn:
        only_app = snapshot(conn, schemas=["app"])
    assert only_app.schemas == ["app"]
    assert set(only_app.tables) == {"app.bookings"}
    assert set(only_app.domains) == {"app.email"}
    assert only_app.functions == {}
    with scratch.connect() as conn:
        empty = snapshot(conn)
    assert (empty.schemas, empty.tables, empty.functions, empty.alembic_revisions) == (
        ["public"],
        {},
        {},
        [],
    )


def test_handful_of_queries(make_db) -> None:
    """The number of statements does not grow with the number of tables."""
    tables = "\n".join(
        f"CREATE TABLE t{i} (id int PRIMARY KEY, v text); CREATE INDEX ix_t{i} ON t{i} (v);"
        for i in range(60)
    )
    db = make_db(tables)
    with db.connect() as conn:
        seen: list[str] = []
        conn.add_notice_handler(lambda _n: None)
        original = conn.execute

        def counting(query, *args, **kwargs):
            seen.append(str(query))
            return original(query, *args, **kwargs)

        conn.execute = counting  # type: ignore[method-assign]
        snap = snapshot(conn)
    assert len(snap.tables) == 60
    assert len(seen) <= 20


def test_virtual_generated_column_on_18(sandbox, make_db) -> None:
    if sandbox.version < 180000:
        pytest.skip("virtual generated columns arrived in PostgreSQL 18")
    db = make_db("CREATE TABLE v (a int, b int GENERATED ALWAYS AS (a * 2) VIRTUAL);")
    with db.connect() as conn:
        col = snapshot(conn).tables["public.v"].column("b")
    assert (col.generated, col.generated_kind, col.default) == ("(a * 2)", "virtual", None)
