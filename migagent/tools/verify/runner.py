"""Run a revision's upgrade() or downgrade() on a database, capturing every statement.

The revision runs exactly as `alembic upgrade` would run it from a typical
env.py: one SQLAlchemy connection, a MigrationContext (so `alembic.op` and
`alembic.context` work), one transaction around the whole call, and
`autocommit_block()` honoured. SQLAlchemy's cursor events give each statement's
SQL, parameters and duration; after each statement the same connection reads
its own `pg_locks` and the relfilenodes of user relations (see `locks`).

`lock_timeout` and `statement_timeout` are set on the migration's session, so
a blocked or runaway statement ends with a `MigrationError` naming it.
"""

from __future__ import annotations

import contextlib
import re
import signal
import threading
import time
import types
from collections.abc import Callable
from typing import Any, Literal

import psycopg
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import NullPool

from migagent.errors import MigagentError
from migagent.tools import pgurl
from migagent.tools.verify import locks as lk
from migagent.tools.verify.report import StatementRecord
from migagent.tools.verify.revision import (
    RevisionModule,
    describe_base_exception,
    describe_exception,
    python_location,
)

DEFAULT_LOCK_TIMEOUT_MS = 5_000
DEFAULT_STATEMENT_TIMEOUT_MS = 60_000
SLOW_PROBE_S = 0.25  # a statement still running after this is asked what it waits for

Direction = Literal["upgrade", "downgrade"]
Phase = Literal["upgrade", "downgrade", "reupgrade", "history"]


class MigrationError(MigagentError):
    """upgrade()/downgrade() failed: which statement (or Python line) and why. Exit 1."""

    exit_code = 1

    def __init__(
        self,
        phase: str,
        message: str,
        *,
        statements: list[StatementRecord],
        statement: StatementRecord | None = None,
        location: str | None = None,
        kind: Literal["lock_timeout", "statement_timeout", "database", "python"] = "python",
    ) -> None:
        self.phase = phase
        self.message = message
        self.statements = statements
        self.statement = statement
        self.location = location
        self.kind = kind
        super().__init__(f"{phase} failed: {message}")


def short_sql(sql: str, limit: int = 120) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class MigrationSession:
    """One connection to one database on which revisions run with statement capture."""

    def __init__(
        self,
        url: str,
        *,
        lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS,
        statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
        observe: bool = True,
    ) -> None:
        self.url = pgurl.libpq_url(url)
        self.lock_timeout_ms = int(lock_timeout_ms)
        self.statement_timeout_ms = int(statement_timeout_ms)
        self.observe = observe
        self.engine = sa.create_engine(pgurl.sqlalchemy_url(url), poolclass=NullPool)
        self._recording = False
        self._records: list[StatementRecord] = []
        self._phase: str = "upgrade"
        self._rels: lk.Relations = {}
        self._existing: frozenset[int] = frozenset()
        self._prev_locks: lk.LockSet = frozenset()
        self._start = 0.0
        self._open_tx: list[StatementRecord] = []  # statements whose locks are still held
        self._t0: dict[int, float] = {}
        self._failure: dict[int, tuple[BaseException | None, str | None]] = {}
        self._watcher: lk.LockWatcher | None = None
        self._prober: lk.LockWatcher | None = None
        self._probe_timer: threading.Timer | None = None
        self._waiting: str | None = None
        self._autocommit_stmt = False
        for name in ("before_cursor_execute", "after_cursor_execute", "handle_error"):
            event.listen(self.engine, name, getattr(self, "_" + name))
        event.listen(self.engine, "commit", self._on_tx_end)
        event.listen(self.engine, "rollback", self._on_tx_end)
        try:
            self.conn = self.engine.connect()
        except sa_exc.DBAPIError as exc:
            from migagent.errors import DatabaseError

            raise DatabaseError(
                f"cannot connect to {pgurl.redact(self.url)}: {pgurl.describe_connect_error(exc.orig or exc)}",
                "check the sandbox",
            ) from None
        self.dbapi: psycopg.Connection = self.conn.connection.dbapi_connection  # type: ignore[assignment]
        self.conn.exec_driver_sql(f"SET lock_timeout = {self.lock_timeout_ms}")
        self.conn.exec_driver_sql(f"SET statement_timeout = {self.statement_timeout_ms}")
        self.pid: int = self.conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        self.conn.commit()

    # ------------------------------------------------------------------ api
    def run(
        self,
        module: RevisionModule | types.ModuleType,
        direction: Direction,
        *,
        phase: Phase | None = None,
    ) -> list[StatementRecord]:
        """Run module.upgrade()/downgrade() in one transaction; the statements it executed.

        Raises MigrationError (with the statements so far) when it fails.
        """
        from alembic.config import Config
        from alembic.operations import Operations
        from alembic.runtime.environment import EnvironmentContext

        phase = phase or direction
        fn = getattr(module, direction, None)
        label = (
            module.label
            if isinstance(module, RevisionModule)
            else getattr(module, "__file__", "revision")
        )
        if not callable(fn):
            raise MigrationError(
                phase, f"the revision has no {direction}() function", statements=[], location=label
            )
        self._records = []
        self._phase = phase
        self._open_tx = []
        if self.conn.in_transaction():
            self.conn.rollback()
        if self.observe:
            self._rels = lk.relations(self.dbapi)
            self._existing = frozenset(self._rels)
            self.dbapi.rollback()
        self._prev_locks = frozenset()
        paths = (
            module.source.import_paths()
            if isinstance(module, RevisionModule)
            else contextlib.nullcontext()
        )
        # no ScriptDirectory: one revision runs outside any project; alembic reads the
        # script only for head/stamp bookkeeping, which this runner never asks for
        env = EnvironmentContext(Config(), None)  # pyright: ignore[reportArgumentType]
        self._start = time.perf_counter()
        self._recording = True
        interrupt = _InterruptWatch()
        try:
            with paths, env, interrupt:
                env.configure(connection=self.conn, target_metadata=None)
                ctx = env.get_context()
                with ctx.begin_transaction(), Operations.context(ctx):
                    fn()
        except Exception as exc:
            raise self._error(phase, direction, label, exc) from None
        except BaseException as exc:
            # SystemExit, KeyboardInterrupt, GeneratorExit or a BaseException subclass
            # raised by the revision: a failed step, never an exit of migagent. A real
            # Ctrl-C (SIGINT while the revision ran) still interrupts.
            if interrupt.signalled and isinstance(exc, KeyboardInterrupt):
                raise
            raise MigrationError(
                phase,
                f"the revision raised {describe_base_exception(exc)} in {direction}()",
                statements=self._records,
                location=python_location(exc, label),
                kind="python",
            ) from None
        finally:
            self._recording = False
            self._stop_timers()
            if self._watcher is not None:
                self._watcher.stop()
            if self.conn.in_transaction():
                with contextlib.suppress(Exception):
                    self.conn.rollback()
        return self._records

    def close(self) -> None:
        self._stop_timers()
        for w in (self._watcher, self._prober):
            if w is not None:
                w.close()
        with contextlib.suppress(Exception):
            self.conn.close()
        self.engine.dispose()

    def __enter__(self) -> MigrationSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --------------------------------------------------------------- events
    def _before_cursor_execute(self, conn, cursor, statement, parameters, context, executemany):
        if not self._recording:
            return
        raw: psycopg.Connection = cursor.connection
        self._autocommit_stmt = bool(raw.autocommit)
        if (
            not self._autocommit_stmt
            and raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        ):
            self._prev_locks = frozenset()  # a new transaction: nothing held yet
        record = StatementRecord(
            index=len(self._records) + 1,
            phase=self._phase,  # type: ignore[arg-type]
            sql=statement,
            parameters=_params(parameters),
            transactional=not self._autocommit_stmt,
            internal=_is_internal(statement),
        )
        self._records.append(record)
        self._waiting = None
        delay = min(SLOW_PROBE_S, self.lock_timeout_ms / 2000, self.statement_timeout_ms / 2000)
        self._probe_timer = threading.Timer(delay, self._probe)
        self._probe_timer.daemon = True
        self._probe_timer.start()
        if self.observe and self._autocommit_stmt:
            if self._watcher is None:
                self._watcher = lk.LockWatcher(self.url, self.pid)
            self._watcher.start(hold_snapshot=bool(_WAITS_FOR_SNAPSHOTS.match(statement)))
        context._migagent_t0 = time.perf_counter()  # type: ignore[union-attr]

    def _after_cursor_execute(self, conn, cursor, statement, parameters, context, executemany):
        if not self._recording:
            return
        now = time.perf_counter()
        record = self._records[-1]
        t0 = getattr(context, "_migagent_t0", now)
        record.duration_ms = round((now - t0) * 1000, 3)
        record.rowcount = (
            cursor.rowcount if cursor.rowcount is not None and cursor.rowcount >= 0 else None
        )
        self._stop_timers()
        if record.transactional:
            self._open_tx.append(record)
            self._t0[id(record)] = t0  # locks_held_ms is filled in at commit
        else:
            record.locks_held_ms = record.duration_ms
        if not self.observe:
            return
        raw: psycopg.Connection = cursor.connection
        before = self._rels
        if record.transactional:
            # one query: our locks, and the relations they are on (only a locked
            # relation can have been created, rewritten or dropped by this statement)
            held, after = lk.own_locks_and_relations(raw, before)
            acquired = set(held - self._prev_locks)
            self._prev_locks = held
            record.locks = lk.lock_records(acquired, before, after, self._existing)
        else:
            after = lk.relations(raw)
            seen = self._watcher.stop() if self._watcher is not None else set()
            record.locks = lk.lock_records(seen, before, after, self._existing)
            self._prev_locks = frozenset()
            if not any(r.relkind == "table" for r in record.locks):
                documented = lk.documented_lock(statement, before, after)
                if documented is not None:
                    documented.new_relation = not any(
                        rel.name == documented.relation
                        for oid, rel in before.items()
                        if oid in self._existing
                    )
                    record.locks.append(documented)
        record.rewrites, record.rebuilt_indexes = lk.rewrites(before, after)
        self._rels = after

    def _handle_error(self, ctx) -> None:
        if not self._recording:
            return
        self._stop_timers()
        if self._watcher is not None:
            self._watcher.stop()
        if not self._records or self._records[-1].sql != ctx.statement:
            return
        record = self._records[-1]
        t0 = getattr(ctx.execution_context, "_migagent_t0", None) if ctx.execution_context else None
        if t0 is not None:
            record.duration_ms = round((time.perf_counter() - t0) * 1000, 3)
        orig = ctx.original_exception
        record.error = _pg_message(orig)
        self._failure[id(record)] = (orig, self._waiting)

    def _on_tx_end(self, conn) -> None:
        if not self._open_tx:
            return
        now = time.perf_counter()
        for record in self._open_tx:
            t0 = self._t0.pop(id(record), None)
            if t0 is not None:
                record.locks_held_ms = round((now - t0) * 1000, 3)
        self._open_tx = []

    # -------------------------------------------------------------- helpers
    def _probe(self) -> None:
        if self._prober is None:
            self._prober = lk.LockWatcher(self.url, self.pid)
        self._waiting = self._prober.waiting_for()

    def _stop_timers(self) -> None:
        if self._probe_timer is not None:
            self._probe_timer.cancel()
            self._probe_timer = None

    def _error(self, phase: str, direction: str, label: str, exc: Exception) -> MigrationError:
        failed = next((r for r in reversed(self._records) if r.error), None)
        orig = getattr(exc, "orig", None)
        if failed is not None and (orig is not None or isinstance(exc, psycopg.Error)):
            pg_exc, waiting = self._failure.pop(id(failed), (orig, None))
            where = f"statement {failed.index} ({short_sql(failed.sql, 80)})"
            if isinstance(pg_exc, psycopg.errors.LockNotAvailable):
                what = f"waiting for {waiting}" if waiting else "waiting for a lock"
                message = (
                    f"{where} hit lock_timeout ({self.lock_timeout_ms} ms) {what}: "
                    "another session holds a conflicting lock"
                )
                kind = "lock_timeout"
            elif isinstance(pg_exc, psycopg.errors.QueryCanceled):
                message = (
                    f"{where} ran longer than statement_timeout ({self.statement_timeout_ms} ms)"
                    " and was cancelled"
                )
                kind = "statement_timeout"
            else:
                message = f"{where} failed: {failed.error}"
                kind = "database"
            return MigrationError(
                phase,
                message,
                statements=self._records,
                statement=failed,
                location=python_location(exc, label),
                kind=kind,  # type: ignore[arg-type]
            )
        return MigrationError(
            phase,
            f"{direction}() raised {describe_exception(exc)}",
            statements=self._records,
            location=python_location(exc, label),
            kind="python",
        )


class _InterruptWatch:
    """Tells a real SIGINT from a revision's own `raise KeyboardInterrupt` (main thread only)."""

    def __init__(self) -> None:
        self.signalled = False
        self._previous: Callable[[int, types.FrameType | None], Any] | int | None = None

    def __enter__(self) -> _InterruptWatch:
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)

            def handler(signum: int, frame: types.FrameType | None) -> None:
                self.signalled = True
                if callable(previous):
                    previous(signum, frame)
                elif previous != signal.SIG_IGN:
                    raise KeyboardInterrupt

            with contextlib.suppress(ValueError):
                signal.signal(signal.SIGINT, handler)
                self._previous = previous
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(signal.SIGINT, self._previous)


def run_migration(
    db,
    module: RevisionModule | types.ModuleType,
    direction: Direction,
    *,
    lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS,
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
    observe: bool = True,
) -> list[StatementRecord]:
    """Apply `module`'s upgrade() or downgrade() to `db` (a ScratchDatabase or a URL).

    Returns the statements with SQL, duration, locks and rewrites; raises
    MigrationError naming the failing statement or Python line. `observe=False`
    skips lock and rewrite observation (faster, e.g. to replay history).
    """
    url = db if isinstance(db, str) else db.url
    with MigrationSession(
        url,
        lock_timeout_ms=lock_timeout_ms,
        statement_timeout_ms=statement_timeout_ms,
        observe=observe,
    ) as session:
        return session.run(module, direction)


_WAITS_FOR_SNAPSHOTS = re.compile(
    r"^\s*(CREATE\s+(UNIQUE\s+)?INDEX\s+CONCURRENTLY|REINDEX\b.*\bCONCURRENTLY)\b", re.I | re.S
)


def _params(parameters) -> str | None:
    if not parameters:
        return None
    text = repr(parameters)
    return text if len(text) <= 300 else text[:299] + "…"


def _is_internal(sql: str) -> bool:
    head = sql.lstrip()[:6].upper()
    return head == "SELECT" and ("pg_catalog." in sql or "information_schema." in sql)


def _pg_message(exc: BaseException) -> str:
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    return primary or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
