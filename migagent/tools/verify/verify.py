"""`verify_revision`: prove a revision on a scratch copy of its starting schema.

Steps (each one a `StepResult` in the report):

1. load      import the revision (RevisionLoadError: where and why).
2. data      real rows if the starting point has them, otherwise `rows`
             generated rows per empty table (`migagent.tools.datagen`).
3. snapshot  the schema, and a fingerprint of every table's data.
4. upgrade   statement by statement, with duration, locks and rewrites;
             then a snapshot: the schema changes, in words.
5. checks    verification queries, read-only, after the upgrade.
6. downgrade the schema must equal the starting schema exactly (names
             included); data the downgrade cannot bring back is data loss.
7. reupgrade upgrade again: must succeed and give the same schema as step 4.

The scratch database is dropped whatever happens. Usage and environment
problems (a bad schema file, an unreachable target) raise `MigagentError`
(exit 2); a revision that fails any step gives a report with `passed=False`.
"""

from __future__ import annotations

import json
import re
import time
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, LiteralString

import psycopg
from psycopg import sql

from migagent.errors import UsageError
from migagent.tools import datagen
from migagent.tools.datafacts import DataFacts
from migagent.tools.introspect import snapshot
from migagent.tools.introspect.diff import diff_snapshots
from migagent.tools.sandbox import TEMPLATE_PREFIX, Sandbox, ScratchDatabase
from migagent.tools.verify import fingerprint as fp
from migagent.tools.verify.report import (
    BLOCKS_READS,
    BLOCKS_WRITES,
    BlockingLock,
    CheckResult,
    DataSummary,
    Failure,
    StatementRecord,
    StepResult,
    TableData,
    VerificationReport,
    lock_strength,
)
from migagent.tools.verify.revision import (
    AlembicProject,
    RevisionLoadError,
    RevisionModule,
    RevisionSource,
    find_project,
)
from migagent.tools.verify.runner import (
    DEFAULT_LOCK_TIMEOUT_MS,
    DEFAULT_STATEMENT_TIMEOUT_MS,
    MigrationError,
    MigrationSession,
    short_sql,
)

CHECK_ROWS_CAP = 20
BLOCKING_WARN_MS = 1_000  # a blocking lock held longer than this makes the upgrade a warning


@dataclass(frozen=True)
class StartingPoint:
    """The schema a revision starts from. Build one with the class methods."""

    kind: Literal["template", "sql", "file", "target", "history"]
    value: str | None = None  # template name, SQL text, file path, target URL, project path
    label: str = ""

    @classmethod
    def template(cls, name: str) -> StartingPoint:
        """A template database already on the sandbox (e.g. from `sandbox.template_from_sql`)."""
        return cls("template", name, f"template {name}")

    @classmethod
    def schema_sql(cls, text: str, *, source: str = "schema") -> StartingPoint:
        """Schema SQL text (DDL, optionally with rows: INSERT or pg_dump COPY)."""
        return cls("sql", text, source)

    @classmethod
    def schema_file(cls, path: str | Path) -> StartingPoint:
        return cls("file", str(path), f"schema file {path}")

    @classmethod
    def target(cls, url: str) -> StartingPoint:
        """The target database's schema (copied read-only, never its rows)."""
        from migagent.tools.pgurl import libpq_url, redact

        return cls("target", libpq_url(url), f"target {redact(url)}")

    @classmethod
    def history(cls, project: str | Path | None = None) -> StartingPoint:
        """The Alembic project's own history, upgraded to the revision's down_revision.

        `project`: the script directory or alembic.ini; None = the project the
        revision file lives in.
        """
        return cls("history", None if project is None else str(project), "Alembic history")

    def describe(self) -> str:
        return self.label or self.kind


def verify_revision(
    source: RevisionSource,
    start: StartingPoint,
    *,
    sandbox: Sandbox | None = None,
    rows: int = 100,
    checks: Sequence[str] = (),
    lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS,
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
    check_round_trip: bool = True,
    data_facts: DataFacts | None = None,
) -> VerificationReport:
    """Run the revision's upgrade, downgrade and upgrade again on a scratch copy of `start`.

    `data_facts`: what the target's rows are like (no NULL skus, no orphans, ...);
    the generated rows are like that too, so the proof fails or passes for the
    reasons the real data would give.

    Returns the report (passed or not). Raises MigagentError only for usage and
    environment problems (bad starting point, unreachable sandbox).
    """
    t0 = time.perf_counter()
    report = VerificationReport(
        source=source.label,
        starting_point=start.describe(),
        lock_timeout_ms=int(lock_timeout_ms),
        statement_timeout_ms=int(statement_timeout_ms),
    )
    run = _Run(report, list(checks), rows, lock_timeout_ms, statement_timeout_ms, check_round_trip)
    run.facts = data_facts
    try:
        module = run.load(source)
        if module is None:
            return run.finish(t0)
        sandbox = sandbox or Sandbox.open()
        report.server_version = sandbox.version
        template = _prepare(start, sandbox, source, module, lock_timeout_ms, statement_timeout_ms)
        started = time.perf_counter()
        template, gen, f0 = data_template(sandbox, template, rows, data_facts)
        with sandbox.scratch(template) as db:
            run.execute(db, module, gen, f0, started)
        if report.data is not None and gen is not None:
            report.data.facts = gen.facts
    except MigrationError as exc:  # replaying history failed
        run.fail("data", f"replaying the Alembic history failed: {exc.message}", exc=exc)
    return run.finish(t0)


class _Run:
    def __init__(self, report, checks, rows, lock_ms, stmt_ms, round_trip) -> None:
        self.report: VerificationReport = report
        self.checks: list[str] = checks
        self.rows = rows
        self.lock_ms = lock_ms
        self.stmt_ms = stmt_ms
        self.round_trip = round_trip
        self.stopped = False
        self.facts: DataFacts | None = None  # what the target's rows are like

    # ----------------------------------------------------------- steps
    def step(self, name, status, reasons=(), started=None) -> StepResult:
        ms = round((time.perf_counter() - started) * 1000, 3) if started else 0.0
        result = StepResult(name=name, status=status, reasons=list(reasons), duration_ms=ms)
        self.report.steps.append(result)
        return result

    def fail(
        self, name, message, *, started=None, exc: MigrationError | None = None, location=None
    ):
        self.step(name, "failed", [message], started)
        if self.report.failure is None:
            stmt = exc.statement if exc is not None else None
            self.report.failure = Failure(
                step=name,
                message=message,
                statement=stmt.index if stmt is not None else None,
                sql=stmt.sql if stmt is not None else None,
                location=location or (exc.location if exc is not None else None),
            )
        self.stopped = True

    def load(self, source: RevisionSource) -> RevisionModule | None:
        started = time.perf_counter()
        try:
            module = source.load()
        except RevisionLoadError as exc:
            self.fail("load", exc.message, started=started, location=exc.location)
            return None
        self.report.revision = _rev_text(module.revision)
        self.report.down_revision = (
            list(module.down_revision)
            if isinstance(module.down_revision, tuple)
            else module.down_revision
        )
        if module.downgrade is None and self.round_trip:
            self.step(
                "load",
                "failed",
                ["the revision has no downgrade() function: it cannot be rolled back"],
                started,
            )
            self.report.failure = Failure(
                step="load",
                message="the revision has no downgrade() function",
                location=source.label,
            )
        else:
            self.step("load", "passed", [], started)
        return module

    def execute(
        self,
        db: ScratchDatabase,
        module: RevisionModule,
        gen: datagen.DataGenResult | None,
        f0: fp.Fingerprint | None,
        started: float,
    ) -> None:
        report = self.report
        with (
            db.connect(autocommit=True) as conn,
            MigrationSession(
                db.url, lock_timeout_ms=self.lock_ms, statement_timeout_ms=self.stmt_ms
            ) as session,
        ):
            # 1. data (generated into a cached template by data_template, or here)
            if gen is None:
                gen = datagen.generate(conn, snapshot(conn), rows=self.rows, facts=self.facts)
            if f0 is None:
                f0 = fp.fingerprint(conn)
            report.data = DataSummary(
                real_rows=bool(gen.existing),
                rows_requested=self.rows,
                tables={
                    t: TableData(rows=p.rows, generated=t in gen.rows and bool(gen.rows[t]))
                    for t, p in f0.items()
                },
                skipped=gen.skipped,
            )
            reasons = [
                f"{sum(p.rows for p in f0.values())} rows in {len(f0)} tables"
                f" ({gen.total} generated"
                + (f", {len(gen.existing)} tables with their own rows" if gen.existing else "")
                + ")"
            ]
            reasons += [f"no rows for {t}: {why}" for t, why in gen.skipped.items()]
            self.step("data", "warning" if gen.skipped else "passed", reasons, started)

            # 2. snapshot
            started = time.perf_counter()
            s0 = snapshot(conn)
            report.before = s0
            self.step("snapshot", "passed", [f"{len(s0.tables)} tables"], started)

            # 3. upgrade
            started = time.perf_counter()
            try:
                report.upgrade = session.run(module, "upgrade")
            except MigrationError as exc:
                report.upgrade = exc.statements
                self.fail("upgrade", exc.message, started=started, exc=exc)
                return
            s1 = snapshot(conn)
            diff = diff_snapshots(s0, s1)
            report.schema_changes = diff.changes
            f1 = fp.fingerprint(conn)
            report.data_changes = fp.upgrade_changes(f0, f1)
            report.after = s1
            report.blocking_locks = blocking_locks(report.upgrade, f0)
            reasons = [
                f"{sum(not s.internal for s in report.upgrade)} statements,"
                f" {len(diff.changes)} schema changes"
            ]
            slow = [b for b in report.blocking_locks if b.held_ms > BLOCKING_WARN_MS]
            for b in report.blocking_locks:
                reasons.append(
                    f"{b.mode} on {b.table} ({b.rows if b.rows is not None else '?'} rows) blocks"
                    f" {b.blocks} for {b.held_ms:.0f} ms (statement {b.statement}"
                    + (", table rewritten" if b.rewrite else "")
                    + ")"
                )
            self.step("upgrade", "warning" if slow else "passed", reasons, started)

            # 4. checks
            if self.checks:
                started = time.perf_counter()
                report.checks = [run_check(conn, q, self.stmt_ms) for q in self.checks]
                bad = [c for c in report.checks if not c.ok]
                self.step(
                    "checks",
                    "failed" if bad else "passed",
                    [f"{short_sql(c.sql, 80)}: {c.error}" for c in bad]
                    or [f"{len(report.checks)} queries ran"],
                    started,
                )
            if not self.round_trip:
                return
            if module.downgrade is None:
                self.step("downgrade", "failed", ["no downgrade() function"])
                self.step("reupgrade", "skipped", ["no downgrade() function"])
                return

            # 5. downgrade
            started = time.perf_counter()
            try:
                report.downgrade = session.run(module, "downgrade")
            except MigrationError as exc:
                report.downgrade = exc.statements
                self.fail("downgrade", exc.message, started=started, exc=exc)
                self.step("reupgrade", "skipped", ["the downgrade failed"])
                return
            s2 = snapshot(conn)
            residue = diff_snapshots(s0, s2)
            report.downgrade_residue = residue.changes
            f2 = fp.fingerprint(conn)
            touched_tables, touched_columns = _touched(
                diff.changes, report.upgrade, report.downgrade
            )
            report.data_loss = fp.compare(
                f0, f2, touched_tables=touched_tables, touched_columns=touched_columns
            )
            reasons = [f"not restored: {c.detail}" for c in residue.changes]
            reasons += [
                f"data changed where the migration did not touch: {d}"
                for d in report.data_loss.untouched_changed
            ]
            failed = bool(reasons)
            loss = [f.detail for f in report.data_loss.findings]
            if loss:
                reasons.append(f"data loss risk {report.data_loss.risk}")
                reasons.extend(loss)
            if report.data_changes:
                report.data_restored = not fp.upgrade_changes(f0, f2)
                if not report.data_restored:
                    reasons.append("the rows the upgrade changed are not restored")
            status = "failed" if failed else ("warning" if loss else "passed")
            if not reasons:
                reasons = ["schema and data restored exactly"]
            self.step("downgrade", status, reasons, started)
            if failed and report.failure is None:
                report.failure = Failure(
                    step="downgrade",
                    message="; ".join(
                        r for r in reasons if r.startswith(("not restored", "data changed"))
                    ),
                )

            # 6. upgrade again
            started = time.perf_counter()
            try:
                report.reupgrade = session.run(module, "upgrade", phase="reupgrade")
            except MigrationError as exc:
                report.reupgrade = exc.statements
                self.fail("reupgrade", exc.message, started=started, exc=exc)
                return
            s3 = snapshot(conn)
            mismatch = diff_snapshots(s1, s3)
            report.reupgrade_mismatch = mismatch.changes
            if mismatch.changes:
                self.fail(
                    "reupgrade",
                    "the second upgrade gives a different schema: "
                    + "; ".join(c.detail for c in mismatch.changes),
                    started=started,
                )
            else:
                self.step("reupgrade", "passed", ["same schema as the first upgrade"], started)

    def finish(self, t0: float) -> VerificationReport:
        r = self.report
        r.passed = bool(r.steps) and all(s.status != "failed" for s in r.steps)
        r.duration_ms = round((time.perf_counter() - t0) * 1000, 3)
        return r


# ------------------------------------------------------------------ helpers
def _rev_text(value) -> str | None:
    if isinstance(value, tuple):
        return ",".join(value)
    return value


def run_check(conn: psycopg.Connection, query: str, timeout_ms: int) -> CheckResult:
    """Run one verification query read-only; a single false boolean counts as failed."""
    t0 = time.perf_counter()
    result = CheckResult(sql=query, ok=True)
    try:
        with conn.transaction():
            conn.execute("SET TRANSACTION READ ONLY")
            conn.execute(
                sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(int(timeout_ms)))
            )
            # the user's own read-only check query, run on purpose (psycopg asks for a
            # LiteralString so that such text is not run by accident)
            cur = conn.execute(typing.cast(LiteralString, query))
            if cur.description is not None:
                result.columns = [d.name for d in cur.description]
                fetched = cur.fetchall()
                result.row_count = len(fetched)
                result.truncated = len(fetched) > CHECK_ROWS_CAP
                result.rows = [
                    [None if v is None else str(v) for v in row] for row in fetched[:CHECK_ROWS_CAP]
                ]
                if len(fetched) == 1 and len(fetched[0]) == 1 and fetched[0][0] is False:
                    result.ok = False
                    result.error = "returned false"
            else:
                result.row_count = max(cur.rowcount, 0)
            raise _Rollback
    except _Rollback:
        pass
    except psycopg.Error as exc:
        result.ok = False
        diag = getattr(exc, "diag", None)
        result.error = (diag.message_primary if diag else None) or str(exc).splitlines()[0]
    result.duration_ms = round((time.perf_counter() - t0) * 1000, 3)
    return result


class _Rollback(Exception):
    pass


def blocking_locks(statements: list[StatementRecord], data: fp.Fingerprint) -> list[BlockingLock]:
    """Locks on tables that existed before the migration and block readers or writers."""
    out: dict[str, BlockingLock] = {}
    for stmt in statements:
        for lock in stmt.locks:
            if lock.new_relation or lock.relkind != "table" or lock.mode not in BLOCKS_WRITES:
                continue
            held = stmt.locks_held_ms if stmt.locks_held_ms is not None else stmt.duration_ms
            previous = out.get(lock.relation)
            if previous is not None and lock_strength(previous.mode) >= lock_strength(lock.mode):
                if lock.relation in stmt.rewrites:
                    previous.rewrite = True
                continue
            table = data.get(lock.relation)
            out[lock.relation] = BlockingLock(
                table=lock.relation,
                mode=lock.mode,
                blocks="reads and writes" if lock.mode in BLOCKS_READS else "writes",
                statement=stmt.index,
                held_ms=held,
                rows=table.rows if table is not None else None,
                rewrite=lock.relation in stmt.rewrites
                or (previous.rewrite if previous is not None else False),
            )
    return sorted(out.values(), key=lambda b: -b.held_ms)


def _touched(changes, *phases: list[StatementRecord]) -> tuple[set[str], set[str]]:
    """Tables (and table.columns) the migration changed or wrote to."""
    tables: set[str] = set()
    columns: set[str] = set()
    for c in changes:
        if c.object_type == "table":
            tables.add(c.name)
        elif c.object_type == "column":
            columns.add(c.name)
        elif "." in c.name:
            tables.add(c.name.rsplit(".", 1)[0])
    for statements in phases:
        for s in statements:
            for lock in s.locks:
                if lock.relkind == "table" and lock_strength(lock.mode) >= lock_strength(
                    "ROW EXCLUSIVE"
                ):
                    tables.add(lock.relation)
            # a statement in an autocommit block holds its row locks too briefly to be
            # observed: the table it writes to is named in its SQL
            m = _WRITES.match(s.sql or "")
            if m:
                name = m.group(1).replace('"', "")
                tables.add(name if "." in name else f"public.{name}")
    return tables, columns


_WRITES = re.compile(r'\s*(?:UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+(?:ONLY\s+)?([\w."$]+)', re.I)


# ------------------------------------------------------------ data template
DATAGEN_VERSION = "4"  # bump when datagen's output changes


def data_template(
    sandbox: Sandbox, template: str | None, rows: int, facts: DataFacts | None = None
) -> tuple[str | None, datagen.DataGenResult | None, fp.Fingerprint | None]:
    """`template` plus generated rows, as a template of its own (cached by name).

    Only content-named templates (`migagent_t_<hash>`) are cached: the same
    schema with the same `rows` gets the same data template, so the rows are
    generated once per schema, not once per verification. What datagen did
    (rows, skipped tables) and the data's fingerprint are kept in the
    database's comment: every clone has exactly these rows.

    `facts` shape the rows (`datagen.apply_facts`) and are part of the name:
    the same schema, rows and facts give the same data template.

    Returns (template to clone, datagen result, fingerprint); None for what the
    caller must still produce in its scratch copy.
    """
    if template is None or rows <= 0:
        return template, datagen.DataGenResult(), None
    if not template.startswith(TEMPLATE_PREFIX):
        return template, None, None  # not content-named: generate in the scratch database

    def build(url: str) -> str:
        from migagent.tools import pgurl

        with pgurl.connect(url, autocommit=True) as conn:
            gen = datagen.generate(conn, snapshot(conn), rows=rows, facts=facts)
            prints = fp.fingerprint(conn)
        return json.dumps({"datagen": gen.model_dump(mode="json"), "fingerprint": fp.dump(prints)})

    name = sandbox.build_template(
        f"data\0{DATAGEN_VERSION}\0{template}\0{rows}\0{facts.key() if facts else ''}",
        build,
        base=template,
    )
    cached = json.loads(sandbox.template_note(name) or "{}")
    return (
        name,
        datagen.DataGenResult.model_validate(cached["datagen"]),
        fp.load(cached["fingerprint"]),
    )


# --------------------------------------------------------- starting points
def _prepare(
    start: StartingPoint,
    sandbox: Sandbox,
    source: RevisionSource,
    module: RevisionModule,
    lock_ms: int,
    stmt_ms: int,
) -> str | None:
    """The template database the scratch copy is cloned from."""
    if start.kind == "template":
        return start.value
    if start.kind == "sql":
        return sandbox.template_from_sql(start.value or "", source=start.describe())
    if start.kind == "file":
        return sandbox.template_from_file(start.value or "")
    if start.kind == "target":
        return sandbox.template_from_target(start.value or "")
    if start.kind == "history":
        return history_template(sandbox, source, module, start.value, lock_ms, stmt_ms)
    raise UsageError(f"unknown starting point {start.kind!r}")


def history_template(
    sandbox: Sandbox,
    source: RevisionSource,
    module: RevisionModule,
    project_path: str | None,
    lock_ms: int = DEFAULT_LOCK_TIMEOUT_MS,
    stmt_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
) -> str | None:
    """A template holding the project's schema at the revision's down_revision.

    Every revision from base to down_revision is upgraded in order (with
    statement capture off); the template is named by a hash of those files,
    so replaying the same history again is free.
    """
    project = _project(source, project_path)
    if not module.down_revision:
        return None  # the first revision starts from an empty database
    script = project.script_directory()
    downs = module.down_revision
    try:
        chain = list(script.iterate_revisions(downs, "base", implicit_base=True))
    except Exception as exc:
        raise UsageError(
            f"cannot follow the Alembic history from {downs} down to base: {exc}",
            "check the revision's down_revision and the project's versions folder",
        ) from None
    chain.reverse()  # base first
    texts = []
    for rev in chain:
        texts.append(Path(rev.path).read_text(encoding="utf-8"))

    def build(url: str) -> None:
        with MigrationSession(
            url, lock_timeout_ms=lock_ms, statement_timeout_ms=stmt_ms, observe=False
        ) as session:
            for rev in chain:
                try:
                    mod = RevisionSource.from_path(rev.path).load()
                except RevisionLoadError as exc:
                    raise MigrationError(
                        "history", f"{rev.revision} does not load: {exc}", statements=[]
                    ) from None
                try:
                    session.run(mod, "upgrade", phase="history")
                except MigrationError as exc:
                    raise MigrationError(
                        "history",
                        f"revision {rev.revision}: {exc.message}",
                        statements=exc.statements,
                        statement=exc.statement,
                        location=exc.location,
                    ) from None

    return sandbox.build_template("history\0" + "\0".join(texts), build)


def _project(source: RevisionSource, project_path: str | None) -> AlembicProject:
    if project_path is not None:
        p = Path(project_path)
        if p.is_file() and p.name.endswith(".ini"):
            import configparser

            parser = configparser.ConfigParser(defaults={"here": str(p.parent.resolve())})
            parser.read(p)
            loc = parser.get("alembic", "script_location", fallback="alembic")
            loc_path = Path(loc) if Path(loc).is_absolute() else p.parent / loc
            return AlembicProject(root=p.parent, script_location=loc_path, ini=p)
        if (p / "env.py").is_file():
            return AlembicProject(root=p.parent, script_location=p)
        if (p / "alembic.ini").is_file():
            return _project(source, str(p / "alembic.ini"))
        raise UsageError(
            f"{p} is not an Alembic project", "give the folder holding env.py or alembic.ini"
        )
    project = find_project(source.path) if source.path is not None else None
    if project is None:
        raise UsageError(
            f"{source.label} is not inside an Alembic project, so there is no history to replay",
            "give --db or --schema-file for the starting schema",
        )
    return project
