"""run_migration / MigrationSession: measured locks, rewrites, real-world revision idioms."""

from __future__ import annotations

import textwrap

import pytest

from migagent.tools.verify import (
    MigrationError,
    MigrationSession,
    RevisionSource,
    normalize_mode,
    run_migration,
)

SCHEMA = """
CREATE TABLE accounts (id bigint PRIMARY KEY, email varchar(100) NOT NULL, balance int NOT NULL DEFAULT 0);
INSERT INTO accounts SELECT g, 'a' || g || '@example.com', g FROM generate_series(1, 500) g;
ALTER TABLE accounts ADD CONSTRAINT balance_positive CHECK (balance >= 0) NOT VALID;
"""


def module(upgrade: str, downgrade: str = "pass", header: str = ""):
    up = textwrap.indent(textwrap.dedent(upgrade).strip(), "    ")
    down = textwrap.indent(textwrap.dedent(downgrade).strip(), "    ")
    text = (
        "from alembic import op\nimport sqlalchemy as sa\n"
        + textwrap.dedent(header)
        + "revision = 'x1'\ndown_revision = None\n"
        + f"def upgrade():\n{up}\n\ndef downgrade():\n{down}\n"
    )
    return RevisionSource.from_text(text, name="x1.py").load()


def statements(records):
    return [r for r in records if not r.internal]


# ------------------------------------------------ PostgreSQL's documented modes
@pytest.mark.parametrize(
    ("upgrade", "mode"),
    [
        ('op.create_index("ix_email", "accounts", ["email"])', "SHARE"),
        ('op.add_column("accounts", sa.Column("nickname", sa.Text()))', "ACCESS EXCLUSIVE"),
        (
            'op.execute("ALTER TABLE accounts VALIDATE CONSTRAINT balance_positive")',
            "SHARE UPDATE EXCLUSIVE",
        ),
    ],
    ids=["create-index", "add-column", "validate-constraint"],
)
def test_measured_lock_matches_documented_mode(make_db, upgrade: str, mode: str) -> None:
    db = make_db(SCHEMA)
    [record] = statements(run_migration(db, module(upgrade), "upgrade"))
    assert record.transactional
    assert record.lock_on("accounts") == mode
    assert record.table_locks == {"public.accounts": mode}
    [lock] = [lk for lk in record.locks if lk.relkind == "table"]
    assert lock.observed and not lock.new_relation


def test_create_index_concurrently_is_observed_outside_the_transaction(make_db) -> None:
    db = make_db(SCHEMA)
    records = run_migration(
        db,
        module(
            """
            with op.get_context().autocommit_block():
                op.create_index("ix_email", "accounts", ["email"], postgresql_concurrently=True)
            """
        ),
        "upgrade",
    )
    [record] = statements(records)
    assert "CONCURRENTLY" in record.sql
    assert not record.transactional
    assert record.lock_on("accounts") == "SHARE UPDATE EXCLUSIVE"
    [lock] = [lk for lk in record.locks if lk.relkind == "table"]
    assert lock.observed  # seen in pg_locks from a second connection, not just documented
    with db.connect() as conn:
        assert conn.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_email'::regclass"
        ).fetchone() == (True,)


def test_documented_lock_fallback_names_the_table() -> None:
    from migagent.tools.verify import locks

    rel = locks.Relation(1, 1, "table", "public.accounts", "public.accounts")
    idx = locks.Relation(2, 2, "index", "public.ix_email", "public.accounts")
    rels = {1: rel, 2: idx}
    cic = locks.documented_lock(
        'CREATE INDEX CONCURRENTLY "ix" ON public.accounts (email)', rels, rels
    )
    assert (cic.relation, cic.mode, cic.observed) == (
        "public.accounts",
        "SHARE UPDATE EXCLUSIVE",
        False,
    )
    drop = locks.documented_lock("DROP INDEX CONCURRENTLY IF EXISTS ix_email", rels, rels)
    assert drop.relation == "public.accounts"
    assert locks.documented_lock("ALTER TYPE mood ADD VALUE 'x'", rels, rels) is None


def test_lock_mode_spellings() -> None:
    assert normalize_mode("ShareUpdateExclusiveLock") == "SHARE UPDATE EXCLUSIVE"
    assert normalize_mode("access exclusive") == "ACCESS EXCLUSIVE"
    with pytest.raises(ValueError):
        normalize_mode("AdvisoryLock")


# ------------------------------------------------------------------ rewrites
def test_rewrite_detected_by_relfilenode(make_db) -> None:
    db = make_db(SCHEMA)
    records = statements(
        run_migration(
            db,
            module(
                """
                op.add_column("accounts", sa.Column("note", sa.Text(), server_default="x"))
                op.alter_column("accounts", "balance", type_=sa.BigInteger())
                op.alter_column("accounts", "email", type_=sa.String(300))
                """
            ),
            "upgrade",
        )
    )
    add_default, retype, widen = records
    assert add_default.rewrites == []  # constant default: no rewrite since PG 11
    assert retype.rewrites == ["public.accounts"]
    assert widen.rewrites == []  # varchar(100) -> varchar(300): binary coercible


# ------------------------------------------------------ real-world idioms
def test_real_world_revision_idioms_round_trip(make_db) -> None:
    db = make_db(SCHEMA)
    mod = module(
        """
        mood = postgresql.ENUM("calm", "busy", name="mood")
        mood.create(op.get_bind(), checkfirst=True)
        op.create_table(
            "notes",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("account_id", sa.BigInteger, sa.ForeignKey("accounts.id")),
            sa.Column("body", sa.Text, nullable=False),
            sa.Column("mood", postgresql.ENUM(name="mood", create_type=False)),
        )
        notes = sa.table("notes", sa.column("id"), sa.column("account_id"), sa.column("body"))
        op.bulk_insert(notes, [{"id": i, "account_id": i, "body": f"n{i}"} for i in range(1, 4)])
        with op.batch_alter_table("accounts") as batch:
            batch.add_column(sa.Column("tier", sa.Text()))
        bind = op.get_bind()
        bind.execute(sa.text("UPDATE accounts SET tier = CASE WHEN balance > :n THEN 'gold' ELSE 'basic' END"), {"n": 250})
        rows = bind.execute(sa.text("SELECT count(*) FROM accounts WHERE tier = 'gold'")).scalar()
        op.execute(f"COMMENT ON COLUMN accounts.tier IS 'gold: {rows}'")
        with op.get_context().autocommit_block():
            op.execute("ALTER TYPE mood ADD VALUE 'sleepy'")
        """,
        """
        with op.batch_alter_table("accounts") as batch:
            batch.drop_column("tier")
        op.drop_table("notes")
        op.execute(sa.text("DROP TYPE mood"))
        """,
        header="from sqlalchemy.dialects import postgresql\n",
    )
    with MigrationSession(db.url) as session:
        up = statements(session.run(mod, "upgrade"))
        kinds = [" ".join(s.sql.split())[:20] for s in up]
        assert kinds[0].startswith("CREATE TYPE mood")
        assert any(s.sql.startswith("INSERT INTO notes") and s.parameters for s in up)
        update = next(s for s in up if s.sql.startswith("UPDATE accounts"))
        assert update.rowcount == 500 and update.lock_on("accounts") == "ROW EXCLUSIVE"
        create = next(s for s in up if s.sql.lstrip().startswith("CREATE TABLE notes"))
        # the FK takes SHARE ROW EXCLUSIVE on the parent; the new table is new
        assert create.lock_on("accounts") == "SHARE ROW EXCLUSIVE"
        assert all(lk.new_relation for lk in create.locks if lk.relation == "public.notes")
        add_value = up[-1]
        assert not add_value.transactional and "ADD VALUE" in add_value.sql
        with db.connect() as conn:
            assert conn.execute("SELECT count(*) FROM notes").fetchone() == (3,)
            assert conn.execute("SELECT col_description('accounts'::regclass, 4)").fetchone() == (
                "gold: 250",
            )
        down = statements(session.run(mod, "downgrade"))
        assert [s.sql.split()[0] for s in down] == ["ALTER", "DROP", "DROP"]
        again = statements(session.run(mod, "upgrade", phase="reupgrade"))
        assert all(s.phase == "reupgrade" for s in again)


def test_failed_statement_rolls_back_and_names_itself(make_db) -> None:
    db = make_db(SCHEMA)
    mod = module(
        """
        op.add_column("accounts", sa.Column("x", sa.Integer()))
        op.execute("ALTER TABLE accounts ADD CONSTRAINT u UNIQUE (balance, missing)")
        """
    )
    with pytest.raises(MigrationError) as info:
        run_migration(db, mod, "upgrade")
    err = info.value
    assert err.kind == "database" and err.exit_code == 1
    assert err.statement.index == 2
    assert 'column "missing" named in key does not exist' in err.message
    assert err.location == "x1.py:7 in upgrade()"
    with db.connect() as conn:  # the whole upgrade rolled back
        assert conn.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'accounts'"
        ).fetchone() == (3,)


def test_module_without_the_direction(make_db) -> None:
    db = make_db(SCHEMA)
    source = RevisionSource.from_text("def upgrade():\n    pass\n", name="up_only.py")
    with pytest.raises(MigrationError, match=r"no downgrade\(\) function"):
        run_migration(db, source.load(), "downgrade")
