"""Which locks a statement took, and whether it rewrote a table.

Inside the migration's transaction locks are held until commit, so after each
statement `pg_locks` for the migration's own backend lists everything taken so
far; what is new since the previous statement is what this statement acquired
(exact, one cheap query on the same connection). A statement run outside a
transaction (`autocommit_block()`, e.g. CREATE INDEX CONCURRENTLY) releases its
locks before it returns, so a second connection polls `pg_locks` for that
backend while it runs; when the poll sees nothing on the table, the lock
PostgreSQL documents for the statement is reported with `observed=False`.

Rewrites: a table whose `relfilenode` changed was rewritten (or truncated).

Limitation: `pg_locks` lists a mode once however often it is requested, so a
statement that needs a lock an earlier statement of the same transaction
already took shows no new lock on that table (it is held anyway; the
statement that first took it is the one reported, and `locks_held_ms` says
for how long). Measure one statement per revision to compare modes exactly.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from dataclasses import dataclass

import psycopg

from migagent.tools.verify.report import LockRecord, lock_strength, normalize_mode

_RELKINDS = {
    "r": "table",
    "p": "table",
    "f": "table",
    "i": "index",
    "I": "index",
    "S": "sequence",
    "v": "view",
    "m": "materialized view",
}

RELATIONS_SQL = """
SELECT c.oid::int8, c.relfilenode::int8, c.relkind::text,
       n.nspname || '.' || c.relname, tn.nspname || '.' || t.relname
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_index i ON i.indexrelid = c.oid
LEFT JOIN pg_class t ON t.oid = i.indrelid
LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace
WHERE c.relkind IN ('r', 'p', 'f', 'i', 'I', 'S', 'v', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
"""

OWN_LOCKS_SQL = """
SELECT relation::int8, mode FROM pg_locks
WHERE pid = pg_backend_pid() AND locktype = 'relation' AND granted
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""

HOLD_SNAPSHOT_MAX_S = 2.0  # never hold a CONCURRENTLY statement back longer than this

BACKEND_LOCKS_SQL = """
SELECT relation::int8, mode FROM pg_locks
WHERE pid = %s AND locktype = 'relation' AND granted
"""

WAITING_SQL = """
SELECT l.mode, coalesce(n.nspname || '.' || c.relname, l.locktype), pg_blocking_pids(l.pid)
FROM pg_locks l
LEFT JOIN pg_class c ON c.oid = l.relation
LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE l.pid = %s AND NOT l.granted
"""


@dataclass(frozen=True)
class Relation:
    oid: int
    filenode: int
    relkind: str  # "table", "index", ...
    name: str  # schema.name
    table: str | None  # for an index, its table; for a table, itself


Relations = dict[int, Relation]
LockSet = frozenset[tuple[int, str]]


def relations(conn: psycopg.Connection) -> Relations:
    """Every user relation, by oid (one catalog query)."""
    out: Relations = {}
    for oid, filenode, kind, name, table in conn.execute(RELATIONS_SQL).fetchall():
        relkind = _RELKINDS.get(kind, "other")
        out[oid] = Relation(oid, filenode, relkind, name, table if relkind == "index" else name)
    return out


def own_locks(conn: psycopg.Connection) -> LockSet:
    return frozenset((oid, mode) for oid, mode in conn.execute(OWN_LOCKS_SQL).fetchall())


OWN_LOCKS_RELATIONS_SQL = """
SELECT l.relation::int8, l.mode, c.relfilenode::int8, c.relkind::text,
       n.nspname, c.relname, tn.nspname || '.' || t.relname
FROM pg_locks l
LEFT JOIN pg_class c ON c.oid = l.relation
LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_index i ON i.indexrelid = c.oid
LEFT JOIN pg_class t ON t.oid = i.indrelid
LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace
WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


def _user_schema(nspname: str) -> bool:
    return nspname not in ("pg_catalog", "information_schema") and not nspname.startswith(
        ("pg_toast", "pg_temp")
    )


def own_locks_and_relations(
    conn: psycopg.Connection, before: Relations
) -> tuple[LockSet, Relations]:
    """Our granted relation locks, and `before` updated for the locked relations.

    Inside a transaction only a relation this session holds a lock on can have
    been created, rewritten or dropped by it, so reading just those is exact.
    """
    held: set[tuple[int, str]] = set()
    after = dict(before)
    for oid, mode, filenode, kind, nsp, name, table in conn.execute(
        OWN_LOCKS_RELATIONS_SQL
    ).fetchall():
        held.add((oid, mode))
        if kind is None:
            after.pop(oid, None)  # dropped
        elif _user_schema(nsp) and kind in _RELKINDS:
            relkind = _RELKINDS[kind]
            qualified = f"{nsp}.{name}"
            after[oid] = Relation(
                oid, filenode, relkind, qualified, table if relkind == "index" else qualified
            )
    return frozenset(held), after


def rewrites(before: Relations, after: Relations) -> tuple[list[str], list[str]]:
    """(tables, indexes) present before and after whose relfilenode changed."""
    tables: list[str] = []
    indexes: list[str] = []
    for oid, old in before.items():
        new = after.get(oid)
        if new is None or not old.filenode or new.filenode == old.filenode:
            continue
        if old.relkind in ("table", "materialized view"):
            tables.append(old.name)
        elif old.relkind == "index":
            indexes.append(old.name)
    return sorted(tables), sorted(indexes)


def lock_records(
    acquired: set[tuple[int, str]] | LockSet,
    before: Relations,
    after: Relations,
    existing: set[int] | frozenset[int],
    *,
    observed: bool = True,
) -> list[LockRecord]:
    """Name the (oid, mode) pairs, keep the strongest mode per relation, skip catalogs.

    `existing`: oids that existed before the migration began (others are new).
    """
    strongest: dict[int, str] = {}
    for oid, raw in acquired:
        if oid not in after and oid not in before:
            continue  # a system catalog, or a relation created and dropped meanwhile
        try:
            mode = normalize_mode(raw)
        except ValueError:
            continue
        if oid not in strongest or lock_strength(mode) > lock_strength(strongest[oid]):
            strongest[oid] = mode
    out = []
    for oid, mode in strongest.items():
        rel = after.get(oid) or before[oid]
        out.append(
            LockRecord(
                relation=rel.name,
                relkind=rel.relkind,  # type: ignore[arg-type]
                table=rel.table,
                mode=mode,
                observed=observed,
                new_relation=oid not in existing,
            )
        )
    return sorted(out, key=lambda r: (r.relkind != "table", r.relation))


class LockWatcher:
    """Polls `pg_locks` for another backend from its own connection, in a thread."""

    def __init__(self, url: str, pid: int) -> None:
        self.url = url
        self.pid = pid
        self._conn: psycopg.Connection | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.seen: set[tuple[int, str]] = set()
        self.error: str | None = None

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        return self._conn

    def start(self, *, hold_snapshot: bool = False) -> None:
        """Start polling; returns once the first poll has run, so a short statement is seen.

        `hold_snapshot`: for CREATE INDEX / REINDEX CONCURRENTLY, which wait for
        every older snapshot in the database before they finish: the watcher
        holds one until it has seen the statement's locks, then lets it go, so
        the locks are observed however short the statement is (it delays the
        statement by one poll).
        """
        self.seen = set()
        self._stop.clear()
        conn = self._connection()
        if hold_snapshot:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            conn.execute("SELECT 1")  # takes the snapshot
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._poll, args=(conn, ready, hold_snapshot), daemon=True
        )
        self._thread.start()
        ready.wait(1.0)

    def _poll(self, conn: psycopg.Connection, ready: threading.Event, holding: bool) -> None:
        deadline = time.monotonic() + HOLD_SNAPSHOT_MAX_S
        try:
            with conn.cursor() as cur:
                while True:
                    cur.execute(BACKEND_LOCKS_SQL, (self.pid,), prepare=True)
                    rows = cur.fetchall()
                    self.seen.update((oid, mode) for oid, mode in rows)
                    ready.set()
                    if holding and (rows or time.monotonic() > deadline or self._stop.is_set()):
                        conn.execute("COMMIT")  # release the statement
                        holding = False
                    if self._stop.is_set():
                        break
        except psycopg.Error as exc:
            self.error = str(exc)
        finally:
            if holding:
                with contextlib.suppress(psycopg.Error):
                    conn.execute("COMMIT")
            ready.set()

    def stop(self) -> set[tuple[int, str]]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        return set(self.seen)

    def waiting_for(self) -> str | None:
        """What the watched backend is waiting for right now, in words."""
        try:
            rows = self._connection().execute(WAITING_SQL, (self.pid,)).fetchall()
        except psycopg.Error:
            return None
        if not rows:
            return None
        mode, relation, blockers = rows[0]
        with contextlib.suppress(ValueError):
            mode = normalize_mode(mode)
        who = f", held by backend {', '.join(map(str, blockers))}" if blockers else ""
        return f"{mode} on {relation}{who}"

    def close(self) -> None:
        self.stop()
        if self._conn is not None:
            self._conn.close()
            self._conn = None


# ------------------------------------------------------ documented locks
# For statements that run outside a transaction the poll can miss a short
# statement; these are the locks PostgreSQL documents for them.
_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)'
_QUALIFIED = rf"({_IDENT}(?:\s*\.\s*{_IDENT})?)"
_DOCUMENTED: list[tuple[re.Pattern[str], str, str]] = [
    # (pattern, mode, what the captured name is: "table" or "index")
    (
        re.compile(
            rf"^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?"
            rf"(?:{_IDENT}\s+)?ON\s+(?:ONLY\s+)?{_QUALIFIED}",
            re.I,
        ),
        "SHARE UPDATE EXCLUSIVE",
        "table",
    ),
    (
        re.compile(rf"^\s*DROP\s+INDEX\s+CONCURRENTLY\s+(?:IF\s+EXISTS\s+)?{_QUALIFIED}", re.I),
        "SHARE UPDATE EXCLUSIVE",
        "index",
    ),
    (
        re.compile(rf"^\s*REINDEX\s+(?:\([^)]*\)\s*)?INDEX\s+CONCURRENTLY\s+{_QUALIFIED}", re.I),
        "SHARE UPDATE EXCLUSIVE",
        "index",
    ),
    (
        re.compile(rf"^\s*REINDEX\s+(?:\([^)]*\)\s*)?TABLE\s+CONCURRENTLY\s+{_QUALIFIED}", re.I),
        "SHARE UPDATE EXCLUSIVE",
        "table",
    ),
    (
        re.compile(
            rf"^\s*ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?{_QUALIFIED}.*\bDETACH\s+PARTITION\b.*\bCONCURRENTLY\b",
            re.I | re.S,
        ),
        "SHARE UPDATE EXCLUSIVE",
        "table",
    ),
    (
        re.compile(
            rf"^\s*(?:VACUUM|ANALYZE)\b(?:\s*\([^)]*\))?(?:\s+\w+)*?\s+{_QUALIFIED}\s*;?\s*$", re.I
        ),
        "SHARE UPDATE EXCLUSIVE",
        "table",
    ),
]


def documented_lock(sql: str, before: Relations, after: Relations) -> LockRecord | None:
    """The table lock PostgreSQL documents for a non-transactional statement, if known."""
    for pattern, mode, what in _DOCUMENTED:
        m = pattern.search(sql)
        if not m:
            continue
        name = _unquote(m.group(1))
        rel = _find(name, before) or _find(name, after)
        if what == "index":
            table = rel.table if rel is not None else None
        else:
            table = rel.name if rel is not None else name
        if table is None:
            return None
        return LockRecord(relation=table, relkind="table", table=table, mode=mode, observed=False)
    return None


def _unquote(name: str) -> str:
    parts = re.findall(r'"((?:[^"]|"")+)"|([^.\s"]+)', name)
    return ".".join(q.replace('""', '"') if q else u.lower() for q, u in parts)


def _find(name: str, rels: Relations) -> Relation | None:
    for rel in rels.values():
        if rel.name == name or ("." not in name and rel.name == f"public.{name}"):
            return rel
    if "." not in name:
        matches = [r for r in rels.values() if r.name.split(".", 1)[1] == name]
        if len(matches) == 1:
            return matches[0]
    return None
