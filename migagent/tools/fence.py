"""The fence: PostgreSQL roles without privileges, for SQL and revisions a model wrote.

The sandbox's admin connection is a superuser, and a superuser can run shell
commands (`COPY ... TO PROGRAM`), read and write server files, install any
extension (`dblink` reaches other databases and servers) and drop any
database. So model-written SQL and migrations never run as the admin:

- `migagent_fence` (created on each sandbox server, idempotently, under an
  advisory lock) is a NOLOGIN group with NOSUPERUSER NOCREATEDB NOCREATEROLE
  NOREPLICATION NOBYPASSRLS and no membership in any role (not
  pg_execute_server_program, pg_read_server_files, pg_write_server_files,
  pg_read_all_data, ...). It owns every schema and object of a fenced
  database (`fence_database`: a template clone keeps the template's owner,
  the admin, so objects are handed over; for content-named templates once,
  in a cached fenced template: about 1 ms per object, then a plain clone).
- each fenced scratch database gets its own login role (`migagent_f_<pid>_…`,
  a member of the group, random password, temp_file_limit) with CONNECT,
  CREATE and TEMPORARY on that database only. So the model's SQL can create,
  alter and drop anything in its copy and create trusted extensions
  (pgcrypto, uuid-ossp, hstore, citext, ...), but cannot drop or alter any
  database, connect to another fenced copy, or signal another fenced session.

The embedded server (trust authentication) also gets pg_hba.conf lines that
let fenced logins connect to scratch databases only. On another server a
fenced login can connect to any database whose CONNECT is granted to PUBLIC
(the default) and read what PUBLIC may read there: keep target databases off
the sandbox server. Trust authentication also means any local process may
connect as the superuser: what stops a *revision* from doing that is the
Python fence (`migagent.tools.verify.static_check`, and the child process
and audit hook of `migagent.tools.verify.fenced`), not PostgreSQL.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
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
from migagent.tools.pgrow import scalar
from migagent.tools.sandbox import SCRATCH_PREFIX, TEMPLATE_PREFIX, Sandbox, ScratchDatabase

FENCE_ROLE = "migagent_fence"
FENCE_VERSION = "3"  # bump when fence_database changes (fenced templates are cached by it)
#: temp_file_limit is a superuser setting: set on the role, the role cannot raise it.
TEMP_FILE_LIMIT = "2GB"
#: Attributes the role must have; checked (and restored) on every first use per process.
ROLE_ATTRIBUTES = "NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
LOGIN_PREFIX = "migagent_f_"  # per-scratch login roles: migagent_f_<pid>_<n>_<random>
HBA_BEGIN = "# migagent fence v2: begin (fenced logins may connect to scratch databases only)"
HBA_END = "# migagent fence: end"
_HBA_ANY_BEGIN = "# migagent fence"

_LOCK_KEY = 0x6D69_6766  # pg_advisory_xact_lock key serialising role setup across processes
_READY: set[str] = set()  # admin URLs whose group role is set up in this process
_READY_LOCK = threading.Lock()
_COUNTER = itertools.count()


@dataclass(frozen=True)
class FenceLogin:
    """One fenced scratch database's own login role, and how to log in as it."""

    name: str
    password: str

    def url(self, sandbox: Sandbox, database: str) -> str:
        """A URL to `database` on the sandbox server that logs in as this role."""
        parts = urlsplit(pgurl.with_database(sandbox.url, database))
        host = parts.netloc.rsplit("@", 1)[-1]
        netloc = f"{quote(self.name, safe='')}:{quote(self.password, safe='')}@{host}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


# ----------------------------------------------------------------------- roles
def ensure_role(sandbox: Sandbox) -> str:
    """The fenced group role on this sandbox server (created or repaired once per process).

    `migagent_fence` owns the objects of fenced databases and cannot log in;
    each fenced scratch database gets a login role of its own that is a
    member of it (`create_login`), so one fenced session cannot connect to,
    change or signal another's database. Race-safe: setup runs in one
    transaction under an advisory lock.
    """
    with _READY_LOCK:
        if sandbox.url in _READY:
            return FENCE_ROLE
        try:
            with sandbox.admin() as conn:
                _setup_role(conn)
        except psycopg.Error as exc:
            raise DatabaseError(
                f"cannot set up the fenced role {FENCE_ROLE} on the sandbox: {first_line(exc)}",
                "the sandbox user must be a superuser (or have CREATEROLE) on the sandbox server",
            ) from exc
        if sandbox.embedded:
            if sandbox.version >= 160000:
                _restrict_hba(sandbox)
            for name in _dead_logins(sandbox):
                drop_login(sandbox, name)
        _READY.add(sandbox.url)
        return FENCE_ROLE


def fence_available(sandbox: Sandbox) -> bool:
    """Whether scratch databases on this sandbox can be fenced.

    False only when the sandbox user may not create roles *and* is no superuser:
    then it has no powers to fence off, and its own scratch databases are used
    as they are. A superuser that cannot set the fence up raises.
    """
    try:
        ensure_role(sandbox)
        return True
    except DatabaseError:
        with sandbox.admin() as conn:
            superuser = scalar(
                conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            )
        if superuser:
            raise
        return False


def _setup_role(conn: psycopg.Connection) -> None:
    ident = sql.Identifier(FENCE_ROLE)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (FENCE_ROLE,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN " + ROLE_ATTRIBUTES).format(ident))
        conn.execute(
            sql.SQL("ALTER ROLE {} NOLOGIN " + ROLE_ATTRIBUTES + " PASSWORD NULL").format(ident)
        )
        for (group,) in conn.execute(
            "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid"
            " JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = %s",
            (FENCE_ROLE,),
        ).fetchall():
            conn.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(group), ident))


def create_login(sandbox: Sandbox) -> FenceLogin:
    """A new login role, member of the fenced group, with a random password.

    temp_file_limit is a superuser setting: set on the role, the role cannot
    raise it. The caller drops it with `drop_login`.
    """
    ensure_role(sandbox)
    name = f"{LOGIN_PREFIX}{os.getpid()}_{next(_COUNTER)}_{secrets.token_hex(3)}"
    password = secrets.token_hex(16)
    ident = sql.Identifier(name)
    with sandbox.admin() as conn:
        conn.execute(
            sql.SQL(
                "CREATE ROLE {} LOGIN INHERIT " + ROLE_ATTRIBUTES + " PASSWORD {} IN ROLE {}"
            ).format(ident, sql.Literal(password), sql.Identifier(FENCE_ROLE))
        )
        conn.execute(
            sql.SQL("ALTER ROLE {} SET temp_file_limit = {}").format(
                ident, sql.Literal(TEMP_FILE_LIMIT)
            )
        )
    return FenceLogin(name, password)


def drop_login(sandbox: Sandbox, name: str) -> None:
    """Drop a login role (its database first: a role that owns objects cannot go)."""
    with contextlib.suppress(psycopg.Error, DatabaseError), sandbox.admin() as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (name,)
        )
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def logins_of(sandbox: Sandbox, pid: int) -> list[str]:
    """The login roles process `pid` created (to clean up after a killed child)."""
    return _logins(sandbox, f"{LOGIN_PREFIX}{pid}_")


def _dead_logins(sandbox: Sandbox) -> list[str]:
    from migagent.tools.sandbox import _pid_alive

    out = []
    for name in _logins(sandbox, LOGIN_PREFIX):
        pid = name[len(LOGIN_PREFIX) :].split("_", 1)[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            out.append(name)
    return out


def _logins(sandbox: Sandbox, prefix: str) -> list[str]:
    try:
        with sandbox.admin() as conn:
            rows = conn.execute(
                "SELECT rolname FROM pg_roles WHERE rolname LIKE %s",
                (prefix.replace("_", r"\_") + "%",),
            ).fetchall()
    except (psycopg.Error, DatabaseError):
        return []
    return [r[0] for r in rows]


def _restrict_hba(sandbox: Sandbox) -> None:
    """Embedded server: fenced logins (members of the group) may log in to scratch
    databases only, and nowhere else.

    The lines go first in pg_hba.conf (first match wins), replacing an older
    migagent block. The file is replaced atomically with its owner and mode kept
    (the server may run as another system user), so concurrent processes write
    the same content harmlessly; if the server reports an error in the new file,
    the old one is put back, so the server never fails to start because of it.
    Best effort: a file we cannot write leaves the server as it was.
    """
    with contextlib.suppress(OSError, psycopg.Error), sandbox.admin() as conn:
        hba = Path(scalar(conn.execute("SHOW hba_file")))
        text = hba.read_text()
        if HBA_BEGIN in text:
            return
        if _HBA_ANY_BEGIN in text and HBA_END in text:  # an older block: replace it
            head, _, rest = text.partition(_HBA_ANY_BEGIN)
            rest = rest.split(HBA_END, 1)[1].lstrip("\n")
            rest_text = head + rest
        else:
            rest_text = text
        scratch = "/^" + SCRATCH_PREFIX
        members = "+" + FENCE_ROLE
        block = "\n".join(
            [
                HBA_BEGIN,
                f"local   {scratch}   {members}                   trust",
                f"host    {scratch}   {members}   127.0.0.1/32    trust",
                f"host    {scratch}   {members}   ::1/128         trust",
                f"local   all            {members}                   reject",
                f"host    all            {members}   all             reject",
                f"local   all            {FENCE_ROLE}                    reject",
                f"host    all            {FENCE_ROLE}    all             reject",
                HBA_END,
                "",
            ]
        )
        _replace_file(hba, block + rest_text)
        errors = conn.execute("SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL")
        if scalar(errors):
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


#: Extensions have no ALTER EXTENSION ... OWNER: the admin sets the owner in the
#: catalog (and records the shared dependency, as CREATE EXTENSION would), so a
#: migration may DROP or ALTER ... UPDATE an extension the starting schema had.
_EXTENSIONS_TO_FENCE = """
WITH fence AS (SELECT oid FROM pg_roles WHERE rolname = %(role)s),
moved AS (
    UPDATE pg_extension SET extowner = (SELECT oid FROM fence)
    WHERE extnamespace <> 'pg_catalog'::regnamespace
      AND extowner <> (SELECT oid FROM fence)
    RETURNING oid
)
INSERT INTO pg_shdepend (dbid, classid, objid, objsubid, refclassid, refobjid, deptype)
SELECT (SELECT oid FROM pg_database WHERE datname = current_database()),
       'pg_extension'::regclass, moved.oid, 0, 'pg_authid'::regclass, (SELECT oid FROM fence), 'o'
FROM moved
"""


def fence_database(sandbox: Sandbox, name: str) -> int:
    """Hand every object in database `name` to the fenced role (as the admin); how many.

    Extensions (outside pg_catalog) become the role's too; their member objects
    and catalog objects stay the admin's.
    """
    role = ensure_role(sandbox)
    url = pgurl.with_database(sandbox.url, name)
    with pgurl.connect(url, autocommit=True) as conn, conn.transaction():
        statements = [r[0] for r in conn.execute(_HAND_OVER, {"role": role}).fetchall()]
        for stmt in statements:
            conn.execute(stmt)
        extensions = conn.execute(_EXTENSIONS_TO_FENCE, {"role": role}).rowcount
    return len(statements) + max(extensions, 0)


def fenced_template(sandbox: Sandbox, template: str) -> str:
    """A cached copy of a content-named template whose objects the fenced role owns."""

    def build(url: str) -> None:
        fence_database(sandbox, pgurl_dbname(url))

    name = sandbox.build_template(f"fence\0{FENCE_VERSION}\0{template}", build, base=template)
    _close_to_connections(sandbox, name)
    return name


def _close_to_connections(sandbox: Sandbox, name: str) -> None:
    """Nobody connects to a fenced template (cloning does not need to): a fenced login
    that reached one could change what every later copy starts from."""
    with contextlib.suppress(psycopg.Error), sandbox.admin() as conn:
        row = conn.execute("SELECT datallowconn FROM pg_database WHERE datname = %s", (name,))
        if (row.fetchone() or (False,))[0]:
            conn.execute(
                sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(
                    sql.Identifier(name)
                )
            )


# -------------------------------------------------------------------- scratch
@contextlib.contextmanager
def fenced_scratch(sandbox: Sandbox, template: str | None = None) -> Iterator[ScratchDatabase]:
    """A scratch clone of `template` whose objects the fenced group owns; its `url` logs
    in as a login role made for this database alone.

    The database itself stays the admin's: the login gets CONNECT, CREATE and
    TEMPORARY on it (enough to create schemas and trusted extensions) but may
    not drop or alter it, nor connect to any other database (PUBLIC loses
    CONNECT here; other fenced databases grant it to their own login only).
    Database and login are dropped (by the admin) on exit, whatever ends it.
    A sandbox user that is no superuser and may not create roles is its own
    fence: then this is a plain scratch database (`fence_available`).
    """
    if not fence_available(sandbox):
        with Sandbox.scratch(sandbox, template) as plain:
            yield plain
        return
    cached = template is not None and template.startswith(TEMPLATE_PREFIX)
    source = fenced_template(sandbox, template) if cached else template  # type: ignore[arg-type]
    name = sandbox.create_database(source)
    login: FenceLogin | None = None
    try:
        if not cached:
            fence_database(sandbox, name)
        login = create_login(sandbox)
        with sandbox.admin() as conn:
            db = sql.Identifier(name)
            conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(db))
            conn.execute(
                sql.SQL("GRANT CONNECT, CREATE, TEMPORARY ON DATABASE {} TO {}").format(
                    db, sql.Identifier(login.name)
                )
            )
        yield ScratchDatabase(name=name, url=login.url(sandbox, name))
    finally:
        sandbox.drop_database(name)
        if login is not None:
            drop_login(sandbox, login.name)


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
