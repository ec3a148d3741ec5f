"""The verdict predicts production: drafts and `migagent verify --db` against a target with
real rows (the PostgreSQL 15 server in CI) proven on the default embedded sandbox.

Regression tests for what a new user saw: false failures where the target's rows allow
the change (generated sample rows contradicted them), false passes where they do not,
and every `--db` run dying on the PostgreSQL 15 catalog's `pg_attver` column options.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# slow: about 20 s on 2 cores: drafts preflighted and proven on target databases
pytestmark = pytest.mark.slow

MIGAGENT = str(Path(sys.executable).parent / "migagent")

SHOP = """
CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL,
    name text
);
CREATE TABLE products (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku text,
    name text NOT NULL
);
CREATE TABLE order_items (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id bigint NOT NULL,
    quantity integer NOT NULL DEFAULT 1
);
INSERT INTO customers (email, name)
    SELECT 'c' || g || '@example.com', 'customer ' || g FROM generate_series(1, 400) g;
INSERT INTO products (sku, name) SELECT 'SKU-' || g, 'product ' || g FROM generate_series(1, 250) g;
INSERT INTO order_items (product_id, quantity)
    SELECT 1 + (g % 250), 1 + g % 3 FROM generate_series(1, 900) g;
"""

NULL_SKUS = "UPDATE products SET sku = NULL WHERE id <= 37;"
SHARED_EMAILS = (
    "UPDATE customers SET email = 'shared@example.com' WHERE id IN (1, 2);"
    "UPDATE customers SET email = 'twice@example.com' WHERE id IN (3, 4);"
)
ORPHANS = "INSERT INTO order_items (product_id) VALUES (99999), (99998);"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "MIGAGENT_DATABASE_URL": "",
        "DATABASE_URL": "",
        "ANTHROPIC_API_KEY": "",
        "MIGAGENT_SANDBOX_URL": "",  # the default: the embedded PostgreSQL 18
    }
    return subprocess.run(
        [MIGAGENT, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600
    )


def draft(
    url: str, request: str, tmp_path: Path
) -> tuple[subprocess.CompletedProcess[str], list[Path]]:
    out = tmp_path / "versions"
    proc = run(
        "draft",
        request,
        "--db",
        url,
        "--backend",
        "offline",
        "--no-estimate",
        "--out",
        str(out),
        cwd=tmp_path,
    )
    return proc, sorted(out.glob("*.py")) if out.exists() else []


CASES = [
    # request, what makes the target refuse it, words the refusal must carry
    ("make products.sku required", NULL_SKUS, ["37", "products", "sku"]),
    (
        "add a foreign key from order_items.product_id to products.id",
        ORPHANS,
        ["2", "order_items", "product_id"],
    ),
    ("make customers.email unique", SHARED_EMAILS, ["customers", "email"]),
]


@pytest.mark.parametrize(("request_text", "dirt", "words"), CASES, ids=[c[0] for c in CASES])
def test_a_draft_the_target_allows_is_verified_and_written(
    target_db, tmp_path, request_text, dirt, words
):
    url = target_db(SHOP)
    proc, written = draft(url, request_text, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert len(written) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    (spec,) = (tmp_path / "versions" / "docs" / "migrations").glob("*.md")
    text = spec.read_text()
    assert "| Target preflight | ok:" in text
    assert "Verify data integrity _(target:" in text  # counted on the target's own rows
    if os.environ.get("MIGAGENT_TEST_SERVER_URL"):
        assert "the target runs PostgreSQL 15" in text  # proven on 18, linted at 15


@pytest.mark.parametrize(("request_text", "dirt", "words"), CASES, ids=[c[0] for c in CASES])
def test_a_draft_the_target_refuses_fails_naming_the_rows_and_writes_nothing(
    target_db, tmp_path, request_text, dirt, words
):
    url = target_db(SHOP + dirt)
    proc, written = draft(url, request_text, tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert written == []
    failure = next((ln for ln in proc.stderr.splitlines() if "FAILED" in ln), proc.stderr)
    for word in words:
        assert word in failure, failure
    assert "Traceback" not in proc.stderr


HAND_WRITTEN_NOT_NULL = '''\
"""sku required

Revision ID: 0a1b2c3d4e5f
"""
import sqlalchemy as sa
from alembic import op

revision = "0a1b2c3d4e5f"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("products", "sku", existing_type=sa.Text(), nullable=False)


def downgrade() -> None:
    op.alter_column("products", "sku", existing_type=sa.Text(), nullable=True)
'''


def test_verify_db_of_a_hand_written_revision_follows_the_target_rows(target_db, tmp_path):
    path = tmp_path / "rev.py"
    path.write_text(HAND_WRITTEN_NOT_NULL)
    clean = run("verify", str(path), "--db", target_db(SHOP), cwd=tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    dirty = run("verify", str(path), "--db", target_db(SHOP + NULL_SKUS), cwd=tmp_path)
    assert dirty.returncode == 1, dirty.stdout + dirty.stderr
    assert "37" in dirty.stdout and "sku" in dirty.stdout


def test_the_target_is_only_read(target_db, tmp_path):
    from migagent.tools import pgurl
    from migagent.tools.sandbox import bin_dir

    url = target_db(SHOP + NULL_SKUS)

    def dump() -> str:
        return subprocess.run(
            [str(bin_dir() / "pg_dump"), "--restrict-key=migagent", "-d", pgurl.libpq_url(url)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    before = dump()
    draft(url, "make products.sku required", tmp_path)
    draft(url, "make customers.email unique", tmp_path)
    assert dump() == before


# ------------------------------------------------------------- every preflight kind
KINDS = """
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TABLE people (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL,
    age text,
    nick varchar(40),
    feeling text,
    score integer NOT NULL DEFAULT 0,
    team_id bigint
);
CREATE TABLE teams (id bigint PRIMARY KEY);
INSERT INTO teams SELECT g FROM generate_series(1, 20) g;
INSERT INTO people (email, age, nick, feeling, score, team_id)
    SELECT 'p' || g || '@example.com', (20 + g % 50)::text, 'nick' || g,
           CASE WHEN g % 2 = 0 THEN 'happy' ELSE 'sad' END, g % 90, 1 + g % 20
    FROM generate_series(1, 300) g;
"""

KIND_CASES = {
    "check": (
        'op.create_check_constraint("ck_people_score", "people", "score >= 0")',
        'op.drop_constraint("ck_people_score", "people", type_="check")',
        "UPDATE people SET score = -1 WHERE id <= 3;",
    ),
    "text to integer": (
        'op.alter_column("people", "age", type_=sa.Integer(), postgresql_using="age::integer")',
        'op.alter_column("people", "age", type_=sa.Text(), postgresql_using="age::text")',
        "UPDATE people SET age = 'forty' WHERE id = 5;",
    ),
    "varchar narrowing": (
        'op.alter_column("people", "nick", type_=sa.String(12), existing_type=sa.String(40))',
        'op.alter_column("people", "nick", type_=sa.String(40), existing_type=sa.String(12))',
        "UPDATE people SET nick = repeat('x', 30) WHERE id <= 2;",
    ),
    "text to enum": (
        'op.execute("ALTER TABLE people ALTER COLUMN feeling TYPE mood USING feeling::mood")',
        'op.execute("ALTER TABLE people ALTER COLUMN feeling TYPE text USING feeling::text")',
        "UPDATE people SET feeling = 'grumpy' WHERE id = 7;",
    ),
    "unique on an expression": (
        'op.create_index("ux_people_email", "people", [sa.text("lower(email)")], unique=True)',
        'op.drop_index("ux_people_email", "people")',
        "UPDATE people SET email = upper(email) WHERE id = 2;"
        "UPDATE people SET email = 'p1@example.com' WHERE id = 2;"
        "UPDATE people SET email = 'P1@EXAMPLE.COM' WHERE id = 3;",
    ),
    "foreign key NOT VALID then VALIDATE": (
        'op.create_foreign_key("fk_people_team", "people", "teams", ["team_id"], ["id"],'
        " postgresql_not_valid=True)\n"
        '    op.execute("ALTER TABLE people VALIDATE CONSTRAINT fk_people_team")',
        'op.drop_constraint("fk_people_team", "people", type_="foreignkey")',
        "UPDATE people SET team_id = 999 WHERE id = 1;",
    ),
}


def _kind_revision(upgrade: str, downgrade: str) -> str:
    return HAND_WRITTEN_NOT_NULL.replace(
        'op.alter_column("products", "sku", existing_type=sa.Text(), nullable=False)', upgrade
    ).replace(
        'op.alter_column("products", "sku", existing_type=sa.Text(), nullable=True)', downgrade
    )


@pytest.mark.parametrize("kind", list(KIND_CASES), ids=list(KIND_CASES))
def test_every_preflight_kind_passes_a_clean_target_and_fails_a_violating_one(target_db, kind):
    """`migagent verify --db`'s proof (the same `prove` the drafts use), in process."""
    from migagent.tools.proof import ProofInputs, prove
    from migagent.tools.sandbox import Sandbox

    upgrade, downgrade, dirt = KIND_CASES[kind]
    source = _kind_revision(upgrade, downgrade)
    box = Sandbox.open()
    clean = prove(source, ProofInputs.for_target(box, target_db(KINDS)), require_change=False)
    assert clean.passed, clean.detail
    assert clean.preflight is not None and clean.preflight.results
    assert not clean.preflight.failed
    dirty = prove(source, ProofInputs.for_target(box, target_db(KINDS + dirt)))
    assert not dirty.passed
    assert dirty.preflight_failures, dirty.detail
    assert "people" in dirty.detail
