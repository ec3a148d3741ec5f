"""The schema diff on real servers: each kind of change is found, and nothing else."""

from __future__ import annotations

import pytest
from test_introspect import RICH_SCHEMA

from migagent.tools.introspect import snapshot
from migagent.tools.introspect.diff import Change, diff_snapshots
from migagent.tools.introspect.model import SchemaSnapshot


@pytest.fixture
def rich_pair(make_db):
    """Two independent copies of the rich schema: (snapshot, connection factory)."""

    def make():
        db = make_db(RICH_SCHEMA)
        with db.connect() as conn:
            snap = snapshot(conn)
        return db, snap

    return make


def _after(db, *statements: str) -> SchemaSnapshot:
    with db.connect(autocommit=True) as conn:
        for stmt in statements:
            conn.execute(stmt)
        return snapshot(conn)


def _one(diff, kind: str, object_type: str, name: str) -> Change:
    matches = [
        c for c in diff.changes if (c.kind, c.object_type, c.name) == (kind, object_type, name)
    ]
    assert matches, f"no {kind} {object_type} {name} in {diff.summary()}"
    return matches[0]


def test_identical_schemas_are_equal(make_db) -> None:
    one, two = make_db(RICH_SCHEMA), make_db(RICH_SCHEMA)
    with one.connect() as a, two.connect() as b:
        diff = diff_snapshots(snapshot(a), snapshot(b))
    assert diff.empty
    assert diff.summary() == []


def test_statistics_never_count(rich_pair) -> None:
    db, before = rich_pair()
    after = _after(
        db,
        "INSERT INTO documents (title) SELECT 'more ' || g FROM generate_series(1, 500) g",
        "ANALYZE documents",
        "SELECT nextval('doc_number_seq')",
    )
    assert (
        after.tables["public.documents"].row_estimate
        != before.tables["public.documents"].row_estimate
    )
    assert diff_snapshots(before, after).empty


def test_columns_added_removed_changed(rich_pair) -> None:
    db, before = rich_pair()
    after = _after(
        db,
        "ALTER TABLE sections ADD COLUMN summary text NOT NULL DEFAULT ''",
        "ALTER TABLE sections DROP COLUMN content CASCADE",
        "ALTER TABLE sections ALTER COLUMN position TYPE bigint",
        "UPDATE documents SET updated_at = now()",
        "ALTER TABLE documents ALTER COLUMN updated_at SET NOT NULL",
        "ALTER TABLE documents ALTER COLUMN created_at DROP DEFAULT",
        "COMMENT ON COLUMN documents.title IS 'the title'",
    )
    diff = diff_snapshots(before, after)
    added = _one(diff, "added", "column", "public.sections.summary")
    assert added.detail == "column sections.summary added: text, default ''::text, not null"
    assert _one(diff, "removed", "column", "public.sections.content").detail == (
        "column sections.content removed"
    )
    assert _one(diff, "changed", "column", "public.sections.position").detail == (
        "column sections.position changed: type integer -> bigint"
    )
    nn = [c.detail for c in diff.changes if c.name == "public.documents.updated_at"]
    assert nn == ["column documents.updated_at changed: now not null"]
    assert _one(diff, "changed", "column", "public.documents.created_at").detail == (
        "column documents.created_at changed: default now() -> none"
    )
    assert _one(diff, "changed", "comment", "public.documents.title").detail == (
        "comment on column documents.title changed: 'human title' -> 'the title'"
    )
    # dropping content also dropped the index whose predicate used it
    _one(diff, "removed", "index", "public.sections.ix_sections_title_lower")


def test_generated_column_detail(rich_pair) -> None:
    db, before = rich_pair()
    after = _after(
        db,
        "ALTER TABLE documents ADD COLUMN search_vector tsvector "
        "GENERATED ALWAYS AS (to_tsvector('simple', title)) STORED",
    )
    (change,) = diff_snapshots(before, after).changes
    assert change.detail == (
        "column documents.search_vector added: tsvector, "
        "generated always as (to_tsvector('simple'::regconfig, (title)::text)) stored, nullable"
    )


def test_column_order_counts_but_attnum_gaps_do_not(make_db) -> None:
    """A downgrade that re-adds a dropped column puts it last: that differs.
    A table whose dropped column left an attnum gap does not."""
    db = make_db("CREATE TABLE t (a int, b text, c int);")
    with db.connect(autocommit=True) as conn:
        before = snapshot(conn)
        conn.execute("ALTER TABLE t DROP COLUMN b")
        conn.execute("ALTER TABLE t ADD COLUMN b text")
        readded = snapshot(conn)
    diff = diff_snapshots(before, readded)
    assert diff.summary() == ["table t changed: column order a, b, c -> a, c, b"]
    gap = make_db("CREATE TABLE t (a int, x int, b text, c int); ALTER TABLE t DROP COLUMN x;")
    with gap.connect() as conn:
        gapped = snapshot(conn)
    assert [c.position for c in gapped.tables["public.t"].columns] == [1, 3, 4]
    assert diff_snapshots(before, gapped).empty


def test_tables_constraints_indexes(rich_pair) -> None:
    db, before = rich_pair()
    after = _after(
        db,
        "CREATE TABLE tags (id int PRIMARY KEY, name text)",
        "DROP TABLE cache_entries",
        "ALTER TABLE sections DROP CONSTRAINT sections_document_id_fkey",
        "ALTER TABLE sections ADD CONSTRAINT sections_document_id_fkey FOREIGN KEY (document_id) "
        "REFERENCES documents (id) ON DELETE SET NULL",
        "ALTER TABLE sections VALIDATE CONSTRAINT sections_parent_fk",
        "ALTER TABLE documents ADD CONSTRAINT documents_number_positive CHECK (number > 0)",
        "DROP INDEX ix_sections_search",
        "CREATE INDEX ix_sections_search ON sections USING gist (search_vector)",
        "CREATE INDEX ix_documents_created ON documents (created_at DESC)",
    )
    diff = diff_snapshots(before, after)
    assert _one(diff, "added", "table", "public.tags").detail == "table tags added: (id, name)"
    _one(diff, "removed", "table", "public.cache_entries")
    fk = _one(diff, "changed", "constraint", "public.sections.sections_document_id_fkey")
    assert "ON UPDATE RESTRICT ON DELETE CASCADE -> " in fk.detail
    assert fk.detail.endswith("ON DELETE SET NULL")
    assert _one(diff, "changed", "constraint", "public.sections.sections_parent_fk").detail == (
        "constraint sections_parent_fk on sections changed: "
        "FOREIGN KEY (parent_id) REFERENCES public.sections(id) DEFERRABLE INITIALLY DEFERRED NOT VALID"
        " -> FOREIGN KEY (parent_id) REFERENCES public.sections(id) DEFERRABLE INITIALLY DEFERRED"
    )
    assert [c.detail for c in diff.changes if c.name == "public.sections.sections_parent_fk"][
        1
    ] == ("constraint sections_parent_fk on sections changed: now validated")
    _one(diff, "added", "constraint", "public.documents.documents_number_positive")
    assert _one(diff, "changed", "index", "public.sections.ix_sections_search").detail == (
        "index ix_sections_search on sections changed: gin (search_vector) -> gist (search_vector)"
    )
    assert _one(diff, "added", "index", "public.documents.ix_documents_created").detail == (
        "index ix_documents_created on documents added: btree (created_at DESC)"
    )


def test_index_change_detail(make_db) -> None:
    db = make_db("CREATE TABLE t (a int, b int); CREATE INDEX ix_a ON t (a);")
    with db.connect(autocommit=True) as conn:
        before = snapshot(conn)
        conn.execute("DROP INDEX ix_a")
        conn.execute("CREATE INDEX ix_a ON t (a, b)")
        after = snapshot(conn)
    assert diff_snapshots(before, after).summary() == [
        "index ix_a on t changed: btree (a) -> btree (a, b)"
    ]


def test_ignore_names(make_db) -> None:
    db = make_db(
        "CREATE TABLE t (id int, a int, b int, CONSTRAINT t_pk PRIMARY KEY (id), "
        "CONSTRAINT a_positive CHECK (a > 0));"
        "CREATE INDEX ix_a ON t (a); CREATE INDEX ix_b ON t (b);"
    )
    with db.connect(autocommit=True) as conn:
        before = snapshot(conn)
        conn.execute("ALTER INDEX ix_a RENAME TO t_a_idx")
        conn.execute("ALTER TABLE t RENAME CONSTRAINT t_pk TO t_pkey")
        conn.execute("ALTER TABLE t RENAME CONSTRAINT a_positive TO t_a_check")
        conn.execute("ALTER INDEX ix_b RENAME TO t_b_idx")
        renamed = snapshot(conn)
    strict = diff_snapshots(before, renamed)
    assert {(c.kind, c.name) for c in strict.changes} >= {
        ("removed", "public.t.ix_a"),
        ("added", "public.t.t_a_idx"),
        ("removed", "public.t.t_pk"),
        ("added", "public.t.t_pkey"),
    }
    assert diff_snapshots(before, renamed, ignore_names=True).empty
    exact = diff_snapshots(before, renamed, ignore_names=True, exact_names={"ix_b"})
    assert {(c.kind, c.object_type, c.name) for c in exact.changes} == {
        ("removed", "index", "public.t.ix_b"),
        ("added", "index", "public.t.t_b_idx"),
    }
    # a definition change is still a change when names are ignored
    with db.connect(autocommit=True) as conn:
        conn.execute("DROP INDEX t_a_idx")
        conn.execute("CREATE INDEX ix_a ON t (a) WHERE a > 0")
        changed = snapshot(conn)
    loose = diff_snapshots(before, changed, ignore_names=True)
    assert [(c.kind, c.object_type) for c in loose.changes] == [
        ("removed", "index"),
        ("added", "index"),
    ]
    # a column rename always counts
    with db.connect(autocommit=True) as conn:
        conn.execute("ALTER TABLE t RENAME COLUMN b TO bb")
        col = snapshot(conn)
    assert any(
        c.object_type == "column" for c in diff_snapshots(before, col, ignore_names=True).changes
    )


def test_types_and_sequences(rich_pair) -> None:
    db, before = rich_pair()
    after = _after(
        db,
        "ALTER TYPE doc_status ADD VALUE 'archived' BEFORE 'published'",
        "CREATE TYPE color AS ENUM ('red')",
        "ALTER DOMAIN app.email DROP DEFAULT",
        "ALTER TYPE money_amount ADD ATTRIBUTE note text",
        "ALTER SEQUENCE doc_number_seq INCREMENT 10 OWNED BY NONE",
        "CREATE SEQUENCE app.counter",
        "ALTER EXTENSION btree_gist UPDATE" if False else "SELECT 1",
        "CREATE EXTENSION pg_trgm",
    )
    diff = diff_snapshots(before, after)
    assert _one(diff, "changed", "enum", "public.doc_status").detail == (
        "enum doc_status changed: labels (draft, review, published) -> "
        "(draft, review, archived, published)"
    )
    assert _one(diff, "added", "enum", "public.color").detail == "enum color added: labels (red)"
    assert _one(diff, "changed", "domain", "app.email").detail == (
        "domain app.email changed: default 'nobody@example.com'::text -> none"
    )
    _one(diff, "changed", "type", "public.money_amount")
    seq = [c.detail for c in diff.changes if c.name == "public.doc_number_seq"]
    assert seq == [
        "sequence doc_number_seq changed: increment 5 -> 10",
        "sequence doc_number_seq changed: owned by public.documents.number -> none",
    ]
    _one(diff, "added", "sequence", "app.counter")
    assert _one(diff, "added", "extension", "pg_trgm").detail.startswith("extension pg_trgm added")


def test_enum_label_order_counts(make_db) -> None:
    one = make_db("CREATE TYPE e AS ENUM ('a', 'b');")
    two = make_db("CREATE TYPE e AS ENUM ('b', 'a');")
    with one.connect() as a, two.connect() as b:
        diff = diff_snapshots(snapshot(a), snapshot(b))
    assert diff.summary() == ["enum e changed: labels (a, b) -> (b, a)"]


def test_function_body_change_and_trigger_drop_are_caught(rich_pair) -> None:
    db, before = rich_pair()
    after = _after(
        db,
        """CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END;
$$""",
        "DROP TRIGGER trg_documents_touch ON documents",
    )
    diff = diff_snapshots(before, after)
    body = _one(diff, "changed", "function", "public.touch_updated_at()")
    assert "NEW.updated_at := clock_timestamp();" in body.detail
    assert body.detail.startswith("function touch_updated_at() changed: definition differs (line ")
    assert _one(
        diff, "removed", "trigger", "public.documents.trg_documents_touch"
    ).detail.startswith("trigger trg_documents_touch on documents removed")
    assert len(diff.changes) == 2


def test_recreated_identical_function_and_trigger_are_not_differences(rich_pair) -> None:
    db, before = rich_pair()
    after = _after(
        db,
        "DROP TRIGGER trg_documents_touch ON documents",
        "DROP TRIGGER trg_sections_dummy ON sections",
        "DROP FUNCTION touch_updated_at()",
        """CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$""",
        "CREATE TRIGGER trg_documents_touch BEFORE UPDATE ON documents "
        "FOR EACH ROW EXECUTE FUNCTION touch_updated_at()",
        "COMMENT ON TRIGGER trg_documents_touch ON documents IS 'keeps updated_at fresh'",
        "CREATE TRIGGER trg_sections_dummy BEFORE UPDATE ON sections FOR EACH ROW "
        "WHEN (OLD.title IS DISTINCT FROM NEW.title) EXECUTE FUNCTION touch_updated_at()",
    )
    assert diff_snapshots(before, after).empty


def test_views_policies_comments(rich_pair) -> None:
    db, before = rich_pair()
    after = _after(
        db,
        "CREATE OR REPLACE VIEW published_documents AS "
        "SELECT id, title, created_at FROM documents WHERE status <> 'draft'",
        "DROP MATERIALIZED VIEW section_counts",
        "DROP POLICY documents_owner ON documents",
        "ALTER POLICY documents_published ON documents USING (status <> 'draft')",
        "ALTER TABLE documents FORCE ROW LEVEL SECURITY",
        "COMMENT ON TABLE documents IS NULL",
        "ALTER TABLE sections DISABLE TRIGGER trg_sections_dummy",
    )
    diff = diff_snapshots(before, after)
    view = _one(diff, "changed", "view", "public.published_documents")
    assert view.detail.startswith("view published_documents changed: definition differs")
    _one(diff, "removed", "view", "public.section_counts")
    _one(diff, "removed", "policy", "public.documents.documents_owner")
    assert _one(diff, "changed", "policy", "public.documents.documents_published").detail == (
        "policy documents_published on documents changed: using "
        "(status = 'published'::public.doc_status) -> (status <> 'draft'::public.doc_status)"
    )
    assert _one(diff, "changed", "table", "public.documents").detail == (
        "table documents changed: forced row level security no -> yes"
    )
    assert _one(diff, "removed", "comment", "public.documents").detail == (
        "comment on table documents removed (was 'every document')"
    )
    assert _one(diff, "changed", "trigger", "public.sections.trg_sections_dummy").detail == (
        "trigger trg_sections_dummy on sections changed: enabled origin -> disabled"
    )


def test_partitions(rich_pair) -> None:
    db, before = rich_pair()
    after = _after(
        db,
        "ALTER TABLE events DETACH PARTITION events_2025",
        "CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
    )
    diff = diff_snapshots(before, after)
    _one(diff, "added", "table", "public.events_2026")
    changed = [
        c.detail
        for c in diff.changes
        if c.name == "public.events_2025" and c.object_type == "table"
    ]
    assert "table events_2025 changed: partition of public.events -> none" in changed


def test_stand_ins_and_ignore_callable(make_db) -> None:
    db = make_db("CREATE TABLE t (a int);")
    with db.connect(autocommit=True) as conn:
        before = snapshot(conn)
        conn.execute(
            "CREATE FUNCTION uuid_generate_v4() RETURNS uuid LANGUAGE sql AS 'SELECT gen_random_uuid()'"
        )
        conn.execute("CREATE TABLE shim (x int)")
        conn.execute("ALTER TABLE t ADD COLUMN b int")
        after = snapshot(conn)
    assert len(diff_snapshots(before, after).changes) == 3
    after.stand_ins = ["public.uuid_generate_v4", "public.shim"]
    diff = diff_snapshots(before, after)
    assert [c.name for c in diff.changes] == ["public.t.b"]
    assert diff_snapshots(before, after, ignore=lambda c: c.object_type == "column").empty
