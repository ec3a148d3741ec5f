"""The fence: a PostgreSQL role without privileges, for SQL and revisions a model wrote.

The sandbox's admin connection is a superuser, and a superuser can run shell
commands (`COPY ... TO PROGRAM`), read and write server files, install any
extension (`dblink` reaches other databases and servers) and drop any
database. So model-written SQL and migrations never run as the admin: they run
as `migagent_fence`, a role created on each sandbox server (idempotently,
under an advisory lock) with NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
NOBYPASSRLS and no membership in any role (not pg_execute_server_program,
pg_read_server_files, pg_write_server_files, pg_read_all_data, ...).

In a fenced scratch database the role owns every schema and object and has
CONNECT, CREATE and TEMPORARY, so it may create, alter and drop anything in
it and create trusted extensions (pgcrypto, uuid-ossp, hstore, citext, ...);
the database itself stays the admin's, so the role cannot drop or rename it,
or any other. A template clone keeps the template's owners
(the admin), so `fence_database` hands every object in the clone to the role;
for content-named templates this is done once, in a cached fenced template.

The embedded server (trust authentication) also gets pg_hba.conf lines that
let the role connect to scratch databases only. On another server the role
can connect to any database whose CONNECT is granted to PUBLIC (the default)
and read what PUBLIC may read there: keep target databases off the sandbox
server. Trust authentication also means any local process may connect as the
superuser: what stops a *revision* from doing that is the Python fence
(`migagent.tools.verify.static_check` and the child process of
`migagent.tools.verify.fenced`), not PostgreSQL.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from migagent.errors import DatabaseError, first_line
from migagent.tools import pgurl
from migagent.tools.sandbox import SCRATCH_PREFIX, TEMPLATE_PREFIX, Sandbox, ScratchDatabase

FENCE_ROLE = "migagent_fence"
FENCE_VERSION = "2"  # bump when fence_database changes (fenced templates are cached by it)
#: temp_file_limit is a superuser setting: set on the role, the role cannot raise it.
TEMP_FILE_LIMIT = "2GB"
#: Attributes the role must have; checked (and restored) on every first use per process.
ROLE_ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT"
HBA_BEGIN = "# migagent fence: begin (the fenced role may connect to scratch databases only)"
HBA_END = "# migagent fence: end"

_LOCK_KEY = 0x6D69_6766  # pg_advisory_xact_lock key serialising role setup across processes
_READY: dict[str, FenceRole] = {}  # admin URL -> role, set up once per process
_READY_LOCK = threading.Lock()


@dataclass(frozen=True)
class FenceRole:
    """The fenced role on one server, and how to log in as it."""

    name: str
    password: str

    def url(self, sandbox: Sandbox, database: str) -> str:
        """A URL to `database` on the sandbox server that logs in as the fenced role."""
        parts = urlsplit(pgurl.with_database(sandbox.url, database))
        host = parts.netloc.rsplit("@", 1)[-1]
        netloc = f"{quote(self.name, safe='')}:{quote(self.password, safe='')}@{host}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


# ----------------------------------------------------------------------- role
def ensure_role(sandbox: Sandbox) -> FenceRole:
    """The fenced role on this sandbox server, created or repaired the first time per process.

    Race-safe: setup runs in one transaction under an advisory lock, so two
    processes never CREATE or ALTER the role at once. The password is derived
    from the admin credentials and the server's system identifier: every
    process that can administer the sandbox computes the same one, so none
    invalidates another's connections.
    """
    with _READY_LOCK:
        role = _READY.get(sandbox.url)
        if role is not None:
            return role
        try:
            with sandbox.admin() as conn:
                role = _setup_role(conn, sandbox)
        except psycopg.Error as exc:
            raise DatabaseError(
                f"cannot set up the fenced role {FENCE_ROLE} on the sandbox: {first_line(exc)}",
                "the sandbox user must be a superuser (or have CREATEROLE) on the sandbox server",
            ) from exc
        if sandbox.embedded and sandbox.version >= 160000:
            _restrict_hba(sandbox)
        _READY[sandbox.url] = role
        return role


def _setup_role(conn: psycopg.Connection, sandbox: Sandbox) -> FenceRole:
    ident = sql.Identifier(FENCE_ROLE)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        system_id = conn.execute("SELECT system_identifier FROM pg_control_system()").fetchone()[0]
        admin = urlsplit(sandbox.url)
        password = hashlib.sha256(
            f"{FENCE_ROLE}\0{admin.username or ''}\0{admin.password or ''}\0{system_id}".encode()
        ).hexdigest()[:32]
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (FENCE_ROLE,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE ROLE {} " + ROLE_ATTRIBUTES).format(ident))
        conn.execute(
            sql.SQL("ALTER ROLE {} " + ROLE_ATTRIBUTES + " PASSWORD {}").format(
                ident, sql.Literal(password)
            )
        )
        for (group,) in conn.execute(
            "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid"
            " JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = %s",
            (FENCE_ROLE,),
        ).fetchall():
            conn.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(group), ident))
        conn.execute(
            sql.SQL("ALTER ROLE {} SET temp_file_limit = {}").format(
                ident, sql.Literal(TEMP_FILE_LIMIT)
            )
        )
    return FenceRole(FENCE_ROLE, password)


def _restrict_hba(sandbox: Sandbox) -> None:
    """Embedded server: let the fenced role log in to scratch databases, nowhere else.

    The lines go first in pg_hba.conf (first match wins). The file is replaced
    atomically with its owner and mode kept (the server may run as another
    system user), so concurrent processes write the same content harmlessly;
    if the server reports an error in the new file, the old one is put back, so
    the server never fails to start because of it. Best effort: a file we cannot
    write leaves the server as it was.
    """
    with contextlib.suppress(OSError, psycopg.Error), sandbox.admin() as conn:
        hba = Path(conn.execute("SHOW hba_file").fetchone()[0])
        text = hba.read_text()
        if HBA_BEGIN in text:
            return
        scratch = "/^" + SCRATCH_PREFIX
        block = "\n".join(
            [
                HBA_BEGIN,
                f"local   {scratch}   {FENCE_ROLE}                   trust",
                f"host    {scratch}   {FENCE_ROLE}   127.0.0.1/32    trust",
                f"host    {scratch}   {FENCE_ROLE}   ::1/128         trust",
                f"local   all            {FENCE_ROLE}                   reject",
                f"host    all            {FENCE_ROLE}   all             reject",
                HBA_END,
                "",
            ]
        )
        _replace_file(hba, block + text)
        errors = conn.execute("SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL")
        if errors.fetchone()[0]:
            _replace_file(hba, text)
            return
        conn.execute("SELECT pg_reload_conf()")
        time.sleep(0.05)  # the postmaster re-reads pg_hba.conf on SIGHUP, asynchronously


def _replace_file(path: Path, text: str) -> None:
    st = path.stat()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".pg_hba.")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.chmod(tmp, st.st_mode & 0o777)
        if os.getuid() == 0 or st.st_uid != os.getuid():
            os.chown(tmp, st.st_uid, st.st_gid)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# ------------------------------------------------------------------ ownership
#: Every object in the current database that is not the role's, not a catalog
#: object and not part of an extension, with the statement that hands it over.
_HAND_OVER = """
WITH ext AS (
    SELECT classid, objid FROM pg_depend WHERE deptype = 'e'
), fence AS (
    SELECT oid FROM pg_roles WHERE rolname = %(role)s
), user_ns AS (
    SELECT oid, nspname, nspowner FROM pg_namespace
    WHERE nspname NOT LIKE 'pg\\_%%' AND nspname <> 'information_schema'
)
SELECT format('ALTER SCHEMA %%I OWNER TO %%I', n.nspname, %(role)s)
FROM user_ns n
WHERE n.nspowner NOT IN (SELECT oid FROM fence)
  AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_namespace'::regclass AND ext.objid = n.oid)
UNION ALL
SELECT format('ALTER %%s %%s OWNER TO %%I',
              CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                   WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
              c.oid::regclass, %(role)s)
FROM pg_class c JOIN user_ns n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND c.relowner NOT IN (SELECT oid FROM fence)
  AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
  AND NOT (c.relkind = 'S' AND EXISTS (
        SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
        AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
UNION ALL
SELECT format('ALTER TYPE %%s OWNER TO %%I', t.oid::regtype, %(role)s)
FROM pg_type t JOIN user_ns n ON n.oid = t.typnamespace
WHERE t.typtype IN ('e', 'd', 'r', 'b')
  AND (t.typrelid = 0) AND NOT (t.typcategory = 'A' AND t.typelem <> 0)
  AND t.typowner NOT IN (SELECT oid FROM fence)
  AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid)
UNION ALL
SELECT format('ALTER ROUTINE %%s OWNER TO %%I', p.oid::regprocedure, %(role)s)
FROM pg_proc p JOIN user_ns n ON n.oid = p.pronamespace
WHERE p.proowner NOT IN (SELECT oid FROM fence)
  AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_proc'::regclass AND ext.objid = p.oid)
UNION ALL
SELECT format('ALTER OPERATOR %%s OWNER TO %%I', o.oid::regoperator, %(role)s)
FROM pg_operator o JOIN user_ns n ON n.oid = o.oprnamespace
WHERE o.oprowner NOT IN (SELECT oid FROM fence)
  AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_operator'::regclass AND ext.objid = o.oid)
UNION ALL
SELECT format('ALTER COLLATION %%I.%%I OWNER TO %%I', n.nspname, c.collname, %(role)s)
FROM pg_collation c JOIN user_ns n ON n.oid = c.collnamespace
WHERE c.collowner NOT IN (SELECT oid FROM fence)
  AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_collation'::regclass AND ext.objid = c.oid)
UNION ALL
SELECT format('ALTER TEXT SEARCH CONFIGURATION %%s OWNER TO %%I', c.oid::regconfig, %(role)s)
FROM pg_ts_config c JOIN user_ns n ON n.oid = c.cfgnamespace
WHERE c.cfgowner NOT IN (SELECT oid FROM fence)
  AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_ts_config'::regclass AND ext.objid = c.oid)
UNION ALL
SELECT format('ALTER TEXT SEARCH DICTIONARY %%s OWNER TO %%I', d.oid::regdictionary, %(role)s)
FROM pg_ts_dict d JOIN user_ns n ON n.oid = d.dictnamespace
WHERE d.dictowner NOT IN (SELECT oid FROM fence)
  AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_ts_dict'::regclass AND ext.objid = d.oid)
UNION ALL
SELECT format('ALTER STATISTICS %%I.%%I OWNER TO %%I', n.nspname, s.stxname, %(role)s)
FROM pg_statistic_ext s JOIN user_ns n ON n.oid = s.stxnamespace
WHERE s.stxowner NOT IN (SELECT oid FROM fence)
"""


def fence_database(sandbox: Sandbox, name: str) -> int:
    """Hand every object in database `name` to the fenced role (as the admin); how many.

    Extension members stay the admin's (ALTER on them would detach nothing, but
    the extension itself cannot change owner); so do catalog objects.
    """
    role = ensure_role(sandbox)
    url = pgurl.with_database(sandbox.url, name)
    with pgurl.connect(url, autocommit=True) as conn, conn.transaction():
        statements = [r[0] for r in conn.execute(_HAND_OVER, {"role": role.name}).fetchall()]
        for stmt in statements:
            conn.execute(stmt)
    return len(statements)


def fenced_template(sandbox: Sandbox, template: str) -> str:
    """A cached copy of a content-named template whose objects the fenced role owns."""

    def build(url: str) -> None:
        fence_database(sandbox, pgurl_dbname(url))

    return sandbox.build_template(f"fence\0{FENCE_VERSION}\0{template}", build, base=template)


# -------------------------------------------------------------------- scratch
@contextlib.contextmanager
def fenced_scratch(sandbox: Sandbox, template: str | None = None) -> Iterator[ScratchDatabase]:
    """A scratch clone of `template` whose objects the fenced role owns; `url` logs in as it.

    The database itself stays the admin's: the role gets CONNECT, CREATE and
    TEMPORARY on it (enough to create schemas and trusted extensions), but may
    not drop or alter it, nor any other database, fenced or not. PUBLIC loses
    CONNECT. Dropped (by the admin) on exit, whatever ends the block.
    """
    role = ensure_role(sandbox)
    cached = template is not None and template.startswith(TEMPLATE_PREFIX)
    source = fenced_template(sandbox, template) if cached else template  # type: ignore[arg-type]
    name = sandbox.create_database(source)
    try:
        if not cached:
            fence_database(sandbox, name)
        with sandbox.admin() as conn:
            db = sql.Identifier(name)
            conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(db))
            conn.execute(
                sql.SQL("GRANT CONNECT, CREATE, TEMPORARY ON DATABASE {} TO {}").format(
                    db, sql.Identifier(role.name)
                )
            )
        yield ScratchDatabase(name=name, url=role.url(sandbox, name))
    finally:
        sandbox.drop_database(name)


class FencedSandbox(Sandbox):
    """The same server, but every `scratch()` is fenced (for code that takes a Sandbox)."""

    @classmethod
    def of(cls, sandbox: Sandbox) -> FencedSandbox:
        return cls(url=sandbox.url, embedded=sandbox.embedded, _version=sandbox._version)

    @contextlib.contextmanager
    def scratch(  # type: ignore[override]
        self, template: str | None = None, *, fenced: bool = True
    ) -> Iterator[ScratchDatabase]:
        if not fenced:
            with super().scratch(template) as db:
                yield db
            return
        with fenced_scratch(self, template) as db:
            yield db


def pgurl_dbname(url: str) -> str:
    return urlsplit(url).path.lstrip("/")
