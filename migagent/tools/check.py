"""`migagent check`: guard a repository's committed Alembic migrations (CI, pre-commit).

For the Alembic project in a directory:

1. **History**: exactly one head; otherwise every branch is reported, from its
   head down to the revision it branched from.
2. **Round trip**: every revision, base to head, in ONE scratch database:
   `upgrade(rev)`, snapshot; `downgrade(rev)`, which must restore the
   snapshot taken before the upgrade; `upgrade(rev)` again, which must
   reproduce the upgraded snapshot. The state after a revision is the starting
   point of the next, so a history of n revisions costs n round trips, not n²
   replays. A downgrade that raises `NotImplementedError` is declared
   irreversible (a warning, as the conventions allow). When a step fails, the
   walk continues from a database rebuilt by upgrading up to that revision,
   so one broken revision does not hide the next.
3. **Lint**: every revision, with `migagent lint`'s rules; errors fail.
4. **Spec**: every revision has `docs/migrations/<revision file stem>.md`;
   a missing spec is a warning (an error with `require_specs`).

`since` limits the work to the revisions after a given one (what a pull
request adds): the chain up to it is only upgraded, once, without checks.

Revisions run through `migagent.tools.verify`'s runner (each module's
`upgrade()` / `downgrade()` on a connection, bypassing the project's env.py),
so a project whose env.py needs its own database URL still works.
"""

from __future__ import annotations

import configparser
import contextlib
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import psycopg
from pydantic import BaseModel, Field, computed_field

from migagent.errors import UsageError
from migagent.tools.introspect import SchemaSnapshot, snapshot
from migagent.tools.introspect.diff import diff_snapshots
from migagent.tools.sandbox import Sandbox, ScratchDatabase

if TYPE_CHECKING:  # the runner imports alembic: loaded only when a walk runs
    from migagent.tools.verify.runner import Direction, MigrationError

_Run = Callable[[types.ModuleType, "Direction"], "MigrationError | None"]

SPEC_DIR = "docs/migrations"

Status = Literal["passed", "warning", "failed", "skipped"]


class LintSummary(BaseModel):
    errors: int = 0
    warnings: int = 0
    findings: list[str] = Field(default_factory=list)  # "file:line rule severity: message"


class RevisionResult(BaseModel):
    revision: str
    down_revision: str | list[str] | None = None
    message: str | None = None
    path: str  # relative to the project directory
    roundtrip: Status = "skipped"
    roundtrip_problems: list[str] = Field(default_factory=list)
    roundtrip_ms: float = 0.0
    lint: LintSummary | None = None  # None: not linted
    spec: str | None = None  # path of the paired spec, relative to the project
    problems: list[str] = Field(default_factory=list)  # everything that fails the check
    warnings: list[str] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> bool:
        return not self.problems


class Branch(BaseModel):
    head: str
    revisions: list[str]  # head first, down to (excluding) the branch point
    branch_point: str | None  # None: an independent root


class CheckReport(BaseModel):
    project: str
    script_location: str
    server_version: int = 0
    since: str | None = None
    heads: list[str] = Field(default_factory=list)
    branches: list[Branch] = Field(default_factory=list)  # only when there are several heads
    revisions: list[RevisionResult] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)  # history-level problems
    duration_ms: float = 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> bool:
        return not self.problems and all(r.passed for r in self.revisions)

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    @property
    def warnings(self) -> list[str]:
        return [f"{r.revision}: {w}" for r in self.revisions for w in r.warnings]

    @property
    def all_problems(self) -> list[str]:
        return self.problems + [f"{r.revision}: {p}" for r in self.revisions for p in r.problems]


# ----------------------------------------------------------------- the project
def open_project(directory: str | Path = "."):
    """The Alembic `ScriptDirectory` of the project in `directory` (alembic.ini, or
    a script location holding env.py), and the project root."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    root = Path(directory).resolve()
    ini = root / "alembic.ini"
    try:
        if ini.is_file():
            config = Config(str(ini))
            location = _script_location(ini)
            config.set_main_option("script_location", str(location))
            return ScriptDirectory.from_config(config), root
        if (root / "env.py").is_file():
            return ScriptDirectory(str(root)), root.parent
    except UsageError:
        raise
    except Exception as exc:
        raise UsageError(
            f"cannot read the Alembic project in {root}: {type(exc).__name__}: {exc}",
            "check alembic.ini, env.py and the versions folder",
        ) from None
    raise UsageError(
        f"{root} has no alembic.ini",
        "run migagent check in the project's root directory, or give it",
    )


def _script_location(ini: Path) -> Path:
    """script_location from alembic.ini, relative to the ini's folder (where alembic runs)."""
    parser = configparser.ConfigParser(defaults={"here": str(ini.parent)})
    try:
        parser.read(ini)
        value = parser.get("alembic", "script_location", fallback=None)
    except configparser.Error as exc:
        raise UsageError(f"cannot read {ini}: {exc}", "fix the alembic.ini syntax") from None
    if not value:
        raise UsageError(f"{ini} sets no script_location", "add script_location to [alembic]")
    if ":" in value and not Path(value).is_absolute() and not (ini.parent / value).exists():
        # package resource form, "mypkg:migrations"
        import importlib.resources

        pkg, _, sub = value.partition(":")
        return Path(str(importlib.resources.files(pkg).joinpath(sub)))
    path = Path(value)
    return path if path.is_absolute() else (ini.parent / path).resolve()


def branches(script) -> list[Branch]:
    """Each head's own revisions, down to where it branched off (or its root)."""
    out = []
    for head in sorted(script.get_heads()):
        chain: list[str] = []
        rev = script.get_revision(head)
        point = None
        while rev is not None:
            chain.append(rev.revision)
            downs = rev._normalized_down_revisions
            if not downs:
                break
            parent = script.get_revision(downs[0])
            if parent.is_branch_point or len(downs) > 1:
                point = parent.revision
                break
            rev = parent
        out.append(Branch(head=head, revisions=chain, branch_point=point))
    return out


def ordered(script, since: str | None = None) -> tuple[list, list]:
    """(revisions up to `since`, revisions after it), both base first (topological)."""
    every = list(reversed(list(script.walk_revisions("base", "heads"))))
    if since is None or since == "base":
        return [], every
    try:
        anchor = script.get_revision(since)
    except Exception as exc:
        raise UsageError(
            f"--since {since}: {exc}", "give a revision id of this project (or a unique prefix)"
        ) from None
    if anchor is None:
        return [], every
    before = {r.revision for r in script.revision_map.iterate_revisions(anchor.revision, "base")}
    return [s for s in every if s.revision in before], [
        s for s in every if s.revision not in before
    ]


# ------------------------------------------------------------------ the check
def check_project(
    directory: str | Path = ".",
    *,
    since: str | None = None,
    sandbox: Sandbox | None = None,
    sandbox_url: str | None = None,
    require_specs: bool = False,
    lint_context=None,
    lint: bool = True,
    roundtrip: bool = True,
) -> CheckReport:
    """Check the committed migrations of the Alembic project in `directory`.

    `lint_context` (a `LintContext`, e.g. from `build_lint_context`) tells the
    linter table sizes and the PostgreSQL version; by default sizes are unknown
    (size-dependent rules warn rather than fail) and the version is the sandbox's.
    """
    started = time.perf_counter()
    script, root = open_project(directory)
    report = CheckReport(
        project=str(root), script_location=str(Path(script.dir).resolve()), since=since
    )
    try:
        report.heads = sorted(script.get_heads())
        prefix, todo = ordered(script, since)
    except UsageError:
        raise
    except Exception as exc:  # cycles, missing down_revisions, duplicate ids
        report.problems.append(f"the revision history is broken: {type(exc).__name__}: {exc}")
        report.duration_ms = (time.perf_counter() - started) * 1000
        return report
    if len(report.heads) > 1:
        report.branches = branches(script)
        listing = "; ".join(
            f"{b.head} ({' <- '.join(b.revisions)}"
            + (f" from {b.branch_point})" if b.branch_point else ", its own root)")
            for b in report.branches
        )
        report.problems.append(
            f"{len(report.heads)} heads, expected one: {listing}. "
            "Merge them with `alembic merge heads` or rebase the newer branch"
        )

    results = {s.revision: _result(s, root) for s in todo}
    report.revisions = list(results.values())
    for s in todo:
        _check_spec(results[s.revision], s, root, require_specs)
    box = None
    if roundtrip and todo:
        box = sandbox or Sandbox.open(sandbox_url)
        report.server_version = box.version
    if lint:
        from migagent.tools.lint import LintContext

        ctx = lint_context or LintContext()
        if lint_context is None and box is not None:  # judge by the server they ran on
            ctx.pg_version = box.version // 10_000
        for s in todo:
            _lint(results[s.revision], s, ctx)
    if box is not None:
        _roundtrip(box, prefix, todo, results)
    report.duration_ms = (time.perf_counter() - started) * 1000
    return report


def _result(script_rev, root: Path) -> RevisionResult:
    down = script_rev.down_revision
    return RevisionResult(
        revision=script_rev.revision,
        down_revision=list(down) if isinstance(down, tuple | list) else down,
        message=(script_rev.doc or "").strip() or None,
        path=_rel(Path(script_rev.path), root),
    )


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path)


def spec_path(script_rev, root: Path) -> Path:
    return root / SPEC_DIR / f"{Path(script_rev.path).stem}.md"


def spec_dir_for(revision_dir: str | Path, fallback_root: str | Path) -> Path:
    """Where `check` looks for the specs of revisions written into `revision_dir`, so a
    writer (`migagent draft --out DIR`) puts a spec where it will be paired: the
    docs/migrations folder of the project that holds `revision_dir` (the nearest folder
    with an alembic.ini, the root `check` runs in; or, for a script folder holding env.py
    that no such alembic.ini points at, that folder's parent, as `open_project` reads
    one); `fallback_root`'s when no project does. Never a folder inside the versions
    folder."""
    target = Path(revision_dir).resolve()
    script_dir: Path | None = None
    for folder in [target, *target.parents]:
        ini = folder / "alembic.ini"
        if ini.is_file():
            if script_dir is None:
                return folder / SPEC_DIR
            try:
                location = _script_location(ini)
            except (UsageError, OSError, ImportError, ValueError):
                location = None
            return (folder if location == script_dir else script_dir.parent) / SPEC_DIR
        if script_dir is None and (folder / "env.py").is_file():
            script_dir = folder
    return (script_dir.parent if script_dir else Path(fallback_root)) / SPEC_DIR


def _check_spec(result: RevisionResult, script_rev, root: Path, required: bool) -> None:
    path = spec_path(script_rev, root)
    if path.is_file():
        result.spec = _rel(path, root)
        return
    message = f"no migration spec: expected {_rel(path, root)}"
    (result.problems if required else result.warnings).append(message)


def build_lint_context(
    db: str | None = None, rows: list[str] | None = None, pg_version: str | None = None
):
    """The lint context for `--db` (sizes read from a database, read-only), `--rows`
    (TABLE=N, wins) and `--pg-version`; None when none is given."""
    from migagent.tools.lint import LintContext, context_from_db, parse_pg_version, parse_rows

    if not (db or rows or pg_version):
        return None
    overrides: dict = {}
    if rows:
        overrides["rows"] = parse_rows(rows)
    if pg_version:
        overrides["pg_version"] = parse_pg_version(pg_version)
    if db:
        from migagent.tools import pgurl

        return context_from_db(pgurl.libpq_url(db), **overrides)
    return LintContext(**overrides)


def _lint(result: RevisionResult, script_rev, ctx) -> None:
    from migagent.tools.lint import lint_file

    lint_report = lint_file(script_rev.path, ctx)
    summary = LintSummary(errors=lint_report.errors, warnings=lint_report.warnings)
    for f in lint_report.findings:
        summary.findings.append(f"line {f.line} {f.rule} {f.severity}: {f.message}")
    result.lint = summary
    if summary.errors:
        result.problems.append(
            f"lint: {summary.errors} error(s): "
            + "; ".join(
                f"line {f.line} {f.rule}: {f.message}"
                for f in lint_report.findings
                if f.severity == "error"
            )
        )
    if summary.warnings:
        result.warnings.append(f"lint: {summary.warnings} warning(s)")


# -------------------------------------------------------------- the round trip
class _Walk:
    """One scratch database walked up the history, with a snapshot connection."""

    def __init__(self, box: Sandbox) -> None:
        self.box = box
        self.db: ScratchDatabase | None = None
        self._stack = contextlib.ExitStack()
        self._run: _Run | None = None
        self._snap_conn: psycopg.Connection | None = None

    def fresh(self) -> None:
        self.close()
        self._stack = contextlib.ExitStack()
        self.db = self._stack.enter_context(self.box.scratch())
        self._run = self._stack.enter_context(_runner(self.db))
        self._snap_conn = self._stack.enter_context(self.db.connect(autocommit=True))

    def runner(self, module: types.ModuleType, direction: Direction) -> MigrationError | None:
        """Run one revision's upgrade or downgrade on the walk's database (after fresh())."""
        if self._run is None:
            raise RuntimeError("_Walk.runner() before fresh()")
        return self._run(module, direction)

    def snapshot(self) -> SchemaSnapshot:
        if self._snap_conn is None:
            raise RuntimeError("_Walk.snapshot() before fresh()")
        return snapshot(self._snap_conn)

    def close(self) -> None:
        self._stack.close()


def _roundtrip(box: Sandbox, prefix: list, todo: list, results: dict[str, RevisionResult]) -> None:
    walk = _Walk(box)
    try:
        walk.fresh()
        for s in prefix:
            error = walk.runner(s.module, "upgrade")
            if error:
                for r in todo:
                    r_result = results[r.revision]
                    r_result.roundtrip = "skipped"
                    r_result.problems.append(
                        f"not checked: revision {s.revision} (before --since) does not "
                        f"upgrade: {_describe(error)}"
                    )
                return
        before = walk.snapshot()
        for i, s in enumerate(todo):
            result = results[s.revision]
            t0 = time.perf_counter()
            ok, before = _one(walk, s, before, result)
            result.roundtrip_ms = (time.perf_counter() - t0) * 1000
            if not ok:
                # Rebuild a database with everything up to s applied and carry on.
                walk.fresh()
                for earlier in [*prefix, *todo[: i + 1]]:
                    error = walk.runner(earlier.module, "upgrade")
                    if error:
                        for rest in todo[i + 1 :]:
                            results[rest.revision].problems.append(
                                f"not checked: revision {earlier.revision} does not upgrade"
                            )
                        return
                before = walk.snapshot()
    finally:
        walk.close()


def _one(walk: _Walk, s, before: SchemaSnapshot, result: RevisionResult):
    """Round-trip one revision; (state is as expected, snapshot after it)."""
    error = walk.runner(s.module, "upgrade")
    if error:
        result.roundtrip = "failed"
        result.problems.append(f"upgrade failed: {_describe(error)}")
        return False, before
    upgraded = walk.snapshot()
    error = walk.runner(s.module, "downgrade")
    if error and _irreversible(error):
        result.roundtrip = "warning"
        result.warnings.append(f"downgrade declared irreversible: {_describe(error)}")
        # The failed downgrade was rolled back; carry on only if nothing of it stuck.
        return diff_snapshots(upgraded, walk.snapshot()).empty, upgraded
    if error:
        result.roundtrip = "failed"
        result.problems.append(f"downgrade failed: {_describe(error)}")
        return False, upgraded
    residue = diff_snapshots(before, walk.snapshot())
    if not residue.empty:
        result.roundtrip = "failed"
        result.problems.append(
            "downgrade does not restore the schema: " + "; ".join(residue.summary()[:10])
        )
        return False, upgraded
    error = walk.runner(s.module, "upgrade")
    if error:
        result.roundtrip = "failed"
        result.problems.append(f"upgrade after downgrade failed: {_describe(error)}")
        return False, upgraded
    again = walk.snapshot()
    mismatch = diff_snapshots(upgraded, again)
    if not mismatch.empty:
        result.roundtrip = "failed"
        result.problems.append(
            "upgrade after downgrade gives a different schema: "
            + "; ".join(mismatch.summary()[:10])
        )
        return False, again
    result.roundtrip = "passed"
    return True, again


@contextlib.contextmanager
def _runner(db: ScratchDatabase) -> Iterator[_Run]:
    """A function (module, "upgrade"|"downgrade") -> MigrationError | None, on one
    session of the verify runner kept open for the whole walk."""
    from migagent.tools.verify.runner import MigrationError, MigrationSession

    with MigrationSession(db.url, observe=False) as session:

        def run(module: types.ModuleType, direction: Direction) -> MigrationError | None:
            try:
                session.run(module, direction)
            except MigrationError as exc:
                return exc
            return None

        yield run


def _describe(error) -> str:
    where = f" (at {error.location})" if error.location else ""
    return f"{error.message}{where}"


def _irreversible(error) -> bool:
    return error.kind == "python" and "raised NotImplementedError" in error.message
