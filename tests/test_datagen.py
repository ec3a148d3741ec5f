"""datagen on real servers: every row it inserts satisfies the schema, and it fills what it can."""

from __future__ import annotations

import pytest

from migagent.tools import datagen
from migagent.tools.introspect import snapshot

TYPES = """
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE TYPE pair AS (a int, b text);
CREATE TABLE everything (
    id bigserial PRIMARY KEY,
    ident int GENERATED ALWAYS AS IDENTITY,
    email varchar(120) NOT NULL UNIQUE,
    code char(3) NOT NULL UNIQUE,
    m mood NOT NULL,
    age posint NOT NULL,
    tags text[] NOT NULL,
    moods mood[] NOT NULL,
    doc jsonb NOT NULL,
    j json NOT NULL,
    price numeric(6,2) NOT NULL,
    ratio real NOT NULL,
    flag boolean NOT NULL,
    created timestamptz NOT NULL,
    day date NOT NULL,
    at time NOT NULL,
    span interval NOT NULL,
    ip inet NOT NULL,
    net cidr NOT NULL,
    mac macaddr NOT NULL,
    tsv tsvector NOT NULL,
    r int4range NOT NULL,
    u uuid NOT NULL UNIQUE,
    b bytea NOT NULL,
    bits bit(3) NOT NULL,
    p point NOT NULL,
    pr pair NOT NULL,
    small smallint NOT NULL,
    cost money NOT NULL,
    doubled int GENERATED ALWAYS AS (age * 2) STORED
);
"""


def generate(make_db, schema: str, rows: int = 100):
    db = make_db(schema)
    conn = db.connect(autocommit=True)
    snap = snapshot(conn)
    return conn, snap, datagen.generate(conn, snap, rows=rows)


def count(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_every_type_gets_values(make_db) -> None:
    conn, _, result = generate(make_db, TYPES)
    assert result.skipped == {}
    assert result.rows == {"public.everything": 100}
    assert count(conn, "everything") == 100
    row = conn.execute(
        "SELECT m::text, age, tags, doc ->> 'id', price, u IS NOT NULL, doubled, (pr).a FROM everything ORDER BY id LIMIT 1"
    ).fetchone()
    assert row[0] in ("sad", "ok", "happy") and row[1] > 0 and row[6] == row[1] * 2
    assert row[2] == ["tags 1"] and row[3] == "1"
    # identity and serial columns were left to PostgreSQL
    assert conn.execute("SELECT min(ident), max(ident) FROM everything").fetchone() == (1, 100)


def test_foreign_keys_uniqueness_and_join_tables(make_db) -> None:
    conn, _, result = generate(
        make_db,
        """
        CREATE TABLE authors (id serial PRIMARY KEY, name text NOT NULL);
        CREATE TABLE books (
            id serial PRIMARY KEY,
            author_id int NOT NULL REFERENCES authors (id),
            editor_id int REFERENCES authors (id),
            isbn text NOT NULL UNIQUE,
            title text NOT NULL
        );
        CREATE TABLE shelves (code text, floor int, PRIMARY KEY (code, floor));
        CREATE TABLE placements (
            book_id int NOT NULL REFERENCES books (id),
            shelf_code text NOT NULL,
            shelf_floor int NOT NULL,
            FOREIGN KEY (shelf_code, shelf_floor) REFERENCES shelves (code, floor),
            PRIMARY KEY (book_id, shelf_code, shelf_floor)
        );
        CREATE TABLE book_tags (
            book_id int REFERENCES books (id),
            tag_id int REFERENCES authors (id),
            PRIMARY KEY (book_id, tag_id)
        );
        """,
    )
    assert result.skipped == {}
    assert result.rows == {
        "public.authors": 100,
        "public.books": 100,
        "public.shelves": 100,
        "public.placements": 100,
        "public.book_tags": 100,
    }
    # nullable foreign keys are NULL now and then, never dangling
    nulls, linked = conn.execute(
        "SELECT count(*) FILTER (WHERE editor_id IS NULL), count(a.id) FROM books b LEFT JOIN authors a ON a.id = b.editor_id"
    ).fetchone()
    assert 0 < nulls < 100 and linked == 100 - nulls
    assert conn.execute("SELECT count(DISTINCT author_id) FROM books").fetchone()[0] > 50


def test_checks_shape_values_instead_of_dropping_rows(make_db) -> None:
    conn, _, result = generate(
        make_db,
        """
        CREATE DOMAIN percent AS numeric(5,2) CHECK (VALUE >= 0 AND VALUE <= 100);
        CREATE TABLE tasks (
            id int PRIMARY KEY,
            status text NOT NULL CHECK (status IN ('todo', 'doing', 'done')),
            kind varchar(10) NOT NULL CHECK (kind IN ('bug', 'feature')),
            priority smallint NOT NULL CHECK (priority BETWEEN 1 AND 5),
            starts date NOT NULL,
            ends date NOT NULL,
            code text NOT NULL CHECK (char_length(code) <= 4),
            progress percent NOT NULL,
            estimate int CHECK (estimate > 10),
            CHECK (starts < ends)
        );
        """,
    )
    assert result.rows == {"public.tasks": 100}  # shaped: nothing filtered away
    statuses = {r[0] for r in conn.execute("SELECT DISTINCT status FROM tasks")}
    assert statuses == {"todo", "doing", "done"}
    lo, hi = conn.execute("SELECT min(priority), max(priority) FROM tasks").fetchone()
    assert (lo, hi) == (1, 5)


def test_rows_violating_an_opaque_check_are_filtered(make_db) -> None:
    conn, _, result = generate(
        make_db,
        "CREATE TABLE t (id int PRIMARY KEY, a int NOT NULL, CHECK ((a * id) % 3 = 0));",
    )
    n = result.rows["public.t"]
    assert 0 < n < 100
    assert conn.execute("SELECT bool_and((a * id) % 3 = 0) FROM t").fetchone() == (True,)


def test_nullable_columns_meet_nulls(make_db) -> None:
    conn, _, _ = generate(make_db, "CREATE TABLE t (id int PRIMARY KEY, note text, n int);")
    assert conn.execute("SELECT count(*) - count(note), count(*) - count(n) FROM t").fetchone() == (
        10,
        10,
    )


def test_existing_rows_are_kept_and_used_as_parents(make_db) -> None:
    conn, _, result = generate(
        make_db,
        """
        CREATE TABLE countries (code char(2) PRIMARY KEY, name text NOT NULL);
        INSERT INTO countries VALUES ('FR', 'France'), ('JP', 'Japan');
        CREATE TABLE cities (id serial PRIMARY KEY, country char(2) NOT NULL REFERENCES countries);
        """,
    )
    assert result.existing == {"public.countries": True}
    assert "public.countries" not in result.rows
    assert count(conn, "countries") == 2
    assert {r[0] for r in conn.execute("SELECT DISTINCT country FROM cities")} == {"FR", "JP"}


def test_unsatisfiable_foreign_key_skips_with_reason(make_db) -> None:
    _, _, result = generate(
        make_db,
        """
        CREATE TABLE a (id int PRIMARY KEY, b_id int NOT NULL);
        CREATE TABLE b (id int PRIMARY KEY, a_id int NOT NULL REFERENCES a (id));
        ALTER TABLE a ADD FOREIGN KEY (b_id) REFERENCES b (id);
        """,
    )
    assert set(result.skipped) == {"public.a", "public.b"}
    assert "has no rows for foreign key" in result.skipped["public.a"]


def test_nullable_cycle_and_self_reference_are_filled(make_db) -> None:
    conn, _, result = generate(
        make_db,
        """
        CREATE TABLE emp (id int PRIMARY KEY, boss int REFERENCES emp (id), dept int);
        CREATE TABLE dept (id int PRIMARY KEY, head int REFERENCES emp (id));
        ALTER TABLE emp ADD FOREIGN KEY (dept) REFERENCES dept (id);
        """,
    )
    assert result.skipped == {}
    assert result.rows == {"public.dept": 100, "public.emp": 100}
    # self-references point at earlier rows: shallow trees, never dangling
    roots, linked, dangling = conn.execute(
        "SELECT count(*) FILTER (WHERE e.boss IS NULL), count(b.id),"
        " count(*) FILTER (WHERE e.boss IS NOT NULL AND b.id IS NULL)"
        " FROM emp e LEFT JOIN emp b ON b.id = e.boss"
    ).fetchone()
    assert roots == 10 and linked == 90 and dangling == 0


def test_skips_alembic_version_and_partitions(make_db) -> None:
    conn, _, result = generate(
        make_db,
        """
        CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
        CREATE TABLE m (id int, at date NOT NULL) PARTITION BY RANGE (at);
        CREATE TABLE m_all PARTITION OF m DEFAULT;
        """,
    )
    assert count(conn, "alembic_version") == 0
    assert result.rows == {"public.m": 100}
    assert count(conn, "m_all") == 100


@pytest.mark.parametrize("rows", [0, 10_000])
def test_row_counts_scale(make_db, rows: int) -> None:
    conn, _, result = generate(
        make_db,
        "CREATE TABLE p (id serial PRIMARY KEY, email text UNIQUE NOT NULL);"
        "CREATE TABLE c (id serial PRIMARY KEY, p_id int NOT NULL REFERENCES p, v numeric(4,1));",
        rows=rows,
    )
    assert count(conn, "p") == rows and count(conn, "c") == rows
    if rows:
        assert result.total == 2 * rows


def test_plan_insert_is_inspectable(make_db) -> None:
    db = make_db("CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL);")
    with db.connect() as conn:
        snap = snapshot(conn)
    plan = datagen.plan_insert(snap, snap.tables["public.t"], 5)
    assert plan.statement.startswith('INSERT INTO "public"."t" ("id", "name")')
    assert "generate_series(1::bigint, 5)" in plan.statement
    assert plan.optional == []
