"""`migagent draft --models` against `alembic revision --autogenerate`, change by change.

    python benchmarks/bench_models.py [--server-url URL] [--sandbox-url URL] [--rows 5000000]

A small realistic models module (8 tables, foreign keys, a unique constraint, a
NULLS NOT DISTINCT unique index, a partial index, an enum, server defaults,
identity keys) is written to a temp dir and created with `metadata.create_all` in
a database of --server-url (the "desired" database). For each change below, a
"current" database is that schema with the change undone; then, in the same run:

- migagent: `migagent draft "sync with the models" --db CURRENT --models
  bench_models_pkg.models:Base --rows TABLE=N ... --backend offline --no-estimate
  --force --out DIR` (a subprocess; it proves its draft, upgrade and downgrade,
  on a copy in the sandbox, --sandbox-url or the embedded server, and lints it
  before writing it; --force writes a draft it refuses too, so it is judged like
  the other, and its non-zero exit and reason are listed under the table);
- autogenerate: `alembic revision --autogenerate` (a subprocess) in a throwaway
  project whose env.py is Alembic's generic template with `target_metadata` set
  to the models' metadata and sqlalchemy.url pointing at CURRENT (Alembic's
  default comparison options, as `alembic init` leaves them).

For each produced revision: (a) wall time of the subprocess that wrote it; (b) exact:
its upgrade() applied (by migagent's runner, for both) to a fresh copy of CURRENT
gives the desired database's schema - `snapshot` of both, expressions in the server's
canonical spelling (`canonical_expressions`), `diff_snapshots` with no change except
column order and Alembic's own version table; (c) lint-clean: no error from
`lint_revision_source(source, LintContext(rows={every table: N}))`. migagent is given
the same sizes with --rows (Alembic has no such input). Ratio = migagent / autogenerate.
The last row undoes all nine changes in one current database. One run, no repeats.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from migagent.tools import pgurl
from migagent.tools.introspect import snapshot
from migagent.tools.introspect.diff import canonical_expressions, diff_snapshots
from migagent.tools.lint import LintContext, lint_revision_source
from migagent.tools.sandbox import Sandbox
from migagent.tools.verify.revision import RevisionSource
from migagent.tools.verify.runner import run_migration

BIN = Path(sys.executable).parent
PKG = "bench_models_pkg"

MODELS = """\
import datetime
import decimal
import enum

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class OrderStatus(enum.Enum):
    pending = "pending"
    paid = "paid"
    shipped = "shipped"
    refunded = "refunded"


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(200))
    name: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    __table_args__ = (sa.UniqueConstraint("email", name="customers_email_key"),)


class Address(Base):
    __tablename__ = "addresses"
    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("customers.id", ondelete="CASCADE")
    )
    line1: Mapped[str] = mapped_column(sa.Text)
    city: Mapped[str] = mapped_column(sa.Text)
    country: Mapped[str] = mapped_column(sa.String(2), server_default="US")


class Product(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    sku: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.Text)
    price: Mapped[decimal.Decimal] = mapped_column(sa.Numeric(12, 2))
    barcode: Mapped[str | None] = mapped_column(sa.String(32))
    active: Mapped[bool] = mapped_column(server_default=sa.true())
    __table_args__ = (
        sa.Index(
            "products_barcode_uniq", "barcode", unique=True, postgresql_nulls_not_distinct=True
        ),
    )


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("customers.id"))
    status: Mapped[OrderStatus] = mapped_column(
        sa.Enum(OrderStatus, name="order_status"), server_default="pending"
    )
    total: Mapped[decimal.Decimal] = mapped_column(sa.Numeric(12, 2), server_default="0")
    created_at: Mapped[datetime.datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    __table_args__ = (
        sa.Index("orders_open_idx", "created_at", postgresql_where=sa.text("status = 'pending'")),
    )


class OrderItem(Base):
    __tablename__ = "order_items"
    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    order_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("orders.id", ondelete="CASCADE")
    )
    product_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(server_default=sa.text("1"))
    unit_price: Mapped[decimal.Decimal] = mapped_column(sa.Numeric(12, 2))


class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("orders.id"))
    amount: Mapped[decimal.Decimal] = mapped_column(sa.Numeric(12, 2))
    paid_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    __table_args__ = (sa.Index("payments_order_id_idx", "order_id"),)


class Shipment(Base):
    __tablename__ = "shipments"
    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("orders.id"))
    carrier: Mapped[str] = mapped_column(sa.Text, server_default="ups")
    tracking: Mapped[str | None] = mapped_column(sa.String(100))
    shipped_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime(timezone=True))


class Review(Base):
    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("products.id"))
    customer_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("customers.id"))
    rating: Mapped[int] = mapped_column(sa.SmallInteger)
    body: Mapped[str | None] = mapped_column(sa.Text)
"""

TABLES = [
    "customers",
    "addresses",
    "products",
    "orders",
    "order_items",
    "payments",
    "shipments",
    "reviews",
]

# change -> SQL that undoes it on the desired schema (giving the "current" schema)
ENUM_UNDO = """
DROP INDEX orders_open_idx;
ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;
ALTER TABLE orders ALTER COLUMN status TYPE text;
DROP TYPE order_status;
CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped');
ALTER TABLE orders ALTER COLUMN status TYPE order_status USING status::order_status;
ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'pending';
CREATE INDEX orders_open_idx ON orders (created_at) WHERE status = 'pending';
"""
CHANGES: dict[str, str] = {
    "add table": "DROP TABLE reviews;",
    "add column": "ALTER TABLE customers DROP COLUMN phone;",
    "drop column": "ALTER TABLE orders ADD COLUMN legacy_ref text;",
    "add index": "DROP INDEX payments_order_id_idx;",
    "add FK": "ALTER TABLE order_items DROP CONSTRAINT order_items_product_id_fkey;",
    "change type": "ALTER TABLE products ALTER COLUMN price TYPE integer;",
    "NULLS NOT DISTINCT unique index": (
        "DROP INDEX products_barcode_uniq;"
        " CREATE UNIQUE INDEX products_barcode_uniq ON products (barcode);"
    ),
    "partial index predicate": (
        "DROP INDEX orders_open_idx;"
        " CREATE INDEX orders_open_idx ON orders (created_at) WHERE status <> 'shipped';"
    ),
    "enum value": ENUM_UNDO,
}
# all at once: the enum first (it recreates the partial index), then the rest
CHANGES["all 9 at once"] = "\n".join(
    [CHANGES["enum value"]] + [undo for name, undo in CHANGES.items() if name != "enum value"]
)

ENV_PY = """\
from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool

from bench_models_pkg.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
"""


@dataclass
class Outcome:
    seconds: float
    exact: bool
    lint_clean: bool
    note: str = ""


def _url(sandbox: Sandbox, name: str) -> str:
    return pgurl.with_database(sandbox.url, name)


def _run_sql(url: str, text: str) -> None:
    with pgurl.connect(url, autocommit=True) as conn:
        conn.execute(text)


def _snap(url: str):
    with pgurl.connect(url) as conn:
        return snapshot(conn)


def run_migagent(work: Path, current_url: str, rows: int, sandbox_url: str | None) -> tuple:
    out = work / "migagent_out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    cmd = [str(BIN / "migagent"), "draft", "sync with the models", "--db", current_url]
    cmd += ["--models", f"{PKG}.models:Base", "--backend", "offline", "--no-estimate"]
    cmd += ["--force", "--out", str(out)]
    for t in TABLES:
        cmd += ["--rows", f"{t}={rows}"]
    if sandbox_url:
        cmd += ["--sandbox-url", sandbox_url]
    env = dict(os.environ, PYTHONPATH=str(work))
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    files = sorted(out.glob("*.py"))
    source = files[0].read_text() if files else None
    note = ""
    if proc.returncode != 0 or source is None:
        said = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
        why = [line for line in said if line.startswith(("VERIFICATION FAILED", "error"))]
        note = f"exit {proc.returncode}: " + " / ".join(why or said[-1:])[:300]
    return seconds, source, note


def run_autogenerate(work: Path, current_url: str) -> tuple:
    proj = work / "alembic_proj"
    if not proj.exists():
        subprocess.run(
            [str(BIN / "alembic"), "init", str(proj)], cwd=work, check=True, capture_output=True
        )
        (proj / "env.py").write_text(ENV_PY)
    versions = proj / "versions"
    for f in versions.glob("*.py"):
        f.unlink()
    ini = work / "alembic.ini"
    lines = [
        f"sqlalchemy.url = {pgurl.sqlalchemy_url(current_url)}"
        if line.startswith("sqlalchemy.url")
        else line
        for line in ini.read_text().splitlines()
    ]
    ini.write_text("\n".join(lines) + "\n")
    env = dict(os.environ, PYTHONPATH=str(work))
    cmd = [str(BIN / "alembic"), "-c", str(ini), "revision", "--autogenerate", "-m", "sync"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    files = list(versions.glob("*.py"))
    source = files[0].read_text() if files else None
    note = "" if proc.returncode == 0 else f"rc={proc.returncode}: {proc.stderr.strip()[-300:]}"
    return seconds, source, note


def judge(
    sandbox: Sandbox, current_db: str, source: str | None, want, canon_url: str, rows: int
) -> tuple[bool, bool, str]:
    if source is None:
        return False, False, "no revision"
    lint = lint_revision_source(source, LintContext(rows={t: rows for t in TABLES}))
    lint_clean = lint.errors == 0
    note = ""
    if not lint_clean:
        note = "lint: " + ", ".join(
            sorted({f.rule for f in lint.findings if f.severity == "error"})
        )
    with sandbox.scratch(current_db) as db:
        try:
            run_migration(db, RevisionSource.from_text(source).load(), "upgrade", observe=False)
        except Exception as exc:
            return False, lint_clean, f"upgrade failed: {str(exc).splitlines()[0][:120]}"
        got = _snap(db.url)
    with pgurl.connect(canon_url) as conn:
        want_c, got_c = (canonical_expressions(conn, s) for s in (want, got))
    missed = [
        c.detail
        for c in diff_snapshots(want_c, got_c).changes
        if "column order" not in c.detail and "alembic_version" not in c.name
    ]
    if missed:
        note = "; ".join([*([note] if note else []), *missed[:2]])[:200]
    return not missed, lint_clean, note


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--sandbox-url", default=None, help="migagent's sandbox (default embedded)")
    ap.add_argument("--rows", type=int, default=5_000_000)
    args = ap.parse_args()

    server = Sandbox.open(args.server_url)
    with tempfile.TemporaryDirectory(prefix="bench_models_") as tmp:
        work = Path(tmp)
        (work / PKG).mkdir()
        (work / PKG / "__init__.py").write_text("")
        (work / PKG / "models.py").write_text(MODELS)
        sys.path.insert(0, str(work))
        from bench_models_pkg.models import Base  # type: ignore[import-not-found]

        desired_db = server.create_database()
        canon_db = None
        results: list[tuple[str, Outcome, Outcome]] = []
        try:
            engine = sa.create_engine(
                pgurl.sqlalchemy_url(_url(server, desired_db)), poolclass=sa.pool.NullPool
            )
            Base.metadata.create_all(engine)
            engine.dispose()
            want = _snap(_url(server, desired_db))
            canon_db = server.create_database(desired_db)
            for change, undo in CHANGES.items():
                current_db = server.create_database(desired_db)
                try:
                    _run_sql(_url(server, current_db), undo)
                    cur_url = _url(server, current_db)
                    row = []
                    for produced in (
                        run_migagent(work, cur_url, args.rows, args.sandbox_url),
                        run_autogenerate(work, cur_url),
                    ):
                        seconds, source, note = produced
                        exact, clean, why = judge(
                            server, current_db, source, want, _url(server, canon_db), args.rows
                        )
                        row.append(
                            Outcome(seconds, exact, clean, "; ".join(filter(None, [note, why])))
                        )
                    results.append((change, *row))
                    print(f"{change}: done", file=sys.stderr, flush=True)
                finally:
                    server.drop_database(current_db)
        finally:
            server.drop_database(desired_db)
            if canon_db:
                server.drop_database(canon_db)

    yes = {True: "yes", False: "**no**"}
    print(f"\nserver {args.server_url} (v{server.version}), --rows {args.rows:,} per table\n")
    print(
        "| change | migagent time | exact | lint-clean | autogenerate time | exact | lint-clean | ratio |"
    )
    print("|---|---:|:---:|:---:|---:|:---:|:---:|---:|")
    for change, m, a in results:
        print(
            f"| {change} | {m.seconds:.2f} s | {yes[m.exact]} | {yes[m.lint_clean]} "
            f"| {a.seconds:.2f} s | {yes[a.exact]} | {yes[a.lint_clean]} "
            f"| {m.seconds / a.seconds:.1f}x |"
        )
    print("\nnotes:")
    for change, m, a in results:
        for tool, o in (("migagent", m), ("autogenerate", a)):
            if o.note:
                print(f"- {change} / {tool}: {o.note}")


if __name__ == "__main__":
    main()
