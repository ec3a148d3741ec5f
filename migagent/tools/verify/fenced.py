"""`verify_untrusted`: verify a revision a model wrote without trusting its Python.

`verify_revision` imports the revision and calls its `upgrade()` inside the
calling process, which holds the target's URL, the API key and the sandbox's
superuser connection; a revision that loops forever never returns. Here:

1. the source is checked statically first (`static_check`): a disallowed
   import, builtin, `_name` attribute or connection-opening call is a failed
   `load` step naming the line, and nothing of the revision runs;
2. `verify_revision` runs in a child process (`python -m
   migagent.tools.verify.fenced`, its own session and process group) whose
   environment has no credentials (no MIGAGENT_DATABASE_URL, DATABASE_URL,
   PG* variables, API keys; HOME is a private empty folder, so no ~/.pgpass)
   and which never sees the target's URL (the parent loads SQL, schema files
   and the target's schema into a template first), with memory, CPU and
   file-size limits; request and report travel as JSON;
3. an audit hook in the child refuses new processes, signals, native code,
   hand-made code objects and file writes outside its private folder from
   the moment the revision starts loading (`install_audit_hook`);
4. the child's scratch databases are fenced (`migagent.tools.fence`): the
   migration connects as the unprivileged `migagent_fence` role;
5. a wall-clock limit (`DEFAULT_TIMEOUT_S`, or MIGAGENT_REVISION_TIMEOUT in
   seconds): past it the child's process group is killed, its database
   sessions are terminated (they carry a per-run application_name) and every
   scratch database named with its pid is dropped; the report fails with
   "the revision ran longer than N s".

The child still knows the sandbox's admin URL (it creates the scratch
databases and templates); on the embedded server, trust authentication lets
any local process connect as the superuser anyway. What keeps the revision's
Python from using either is steps 1 and 3; this is a fence against a model's
mistakes and casual escapes, not an operating-system sandbox.
"""

from __future__ import annotations

import collections
import contextlib
import importlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from pydantic import BaseModel, TypeAdapter

from migagent.errors import DatabaseError, MigagentError, UsageError, first_line
from migagent.tools.sandbox import SCRATCH_PREFIX, Sandbox, home_dir
from migagent.tools.verify.report import Failure, StepResult, VerificationReport
from migagent.tools.verify.revision import RevisionSource
from migagent.tools.verify.static_check import check_source
from migagent.tools.verify.verify import StartingPoint

DEFAULT_TIMEOUT_S = 120.0
TIMEOUT_ENV = "MIGAGENT_REVISION_TIMEOUT"
MEMORY_LIMIT_BYTES = 4 * 1024**3  # address space of the child (RLIMIT_AS)
FILE_LIMIT_BYTES = 64 * 1024**2  # largest file the child may write (RLIMIT_FSIZE)
APP_NAME_PREFIX = "migagent-fenced-"
#: Variables the child keeps; everything else (credentials included) is dropped.
KEPT_ENV = (
    "PATH",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "TEMP",
    "TMP",
    "SYSTEMROOT",
    "PYTHONPATH",
    "VIRTUAL_ENV",
)
_STDERR_TAIL = 2000
#: pids of the latest children (for diagnostics and tests: their databases must be gone)
recent_children: collections.deque[int] = collections.deque(maxlen=64)


def revision_timeout_s() -> float:
    """MIGAGENT_REVISION_TIMEOUT (seconds) if set and positive, else DEFAULT_TIMEOUT_S."""
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(
            f"{TIMEOUT_ENV}={raw!r} is not a number of seconds", f"set {TIMEOUT_ENV}=120"
        ) from None
    if value <= 0:
        raise UsageError(f"{TIMEOUT_ENV} must be positive (got {raw})", f"set {TIMEOUT_ENV}=120")
    return value


def verify_untrusted(
    source: str | RevisionSource,
    start: StartingPoint,
    *,
    name: str = "revision.py",
    sandbox: Sandbox | None = None,
    timeout_s: float | None = None,
    **verify_kwargs: Any,
) -> VerificationReport:
    """`verify_revision` for model-written source: static check, child process, fenced
    role, time limit (`timeout_s`, default MIGAGENT_REVISION_TIMEOUT or 120 s).

    Returns the report (passed or not); raises MigagentError only for usage and
    environment problems, as `verify_revision` does.
    """
    revision = (
        source
        if isinstance(source, RevisionSource)
        else RevisionSource.from_text(source, name=name)
    )
    limit = float(timeout_s) if timeout_s is not None else revision_timeout_s()
    t0 = time.perf_counter()
    violations = check_source(revision.text, filename=revision.label)
    if violations:
        report = _failed(revision, start, "load", [str(v) for v in violations], t0)
        report.failure.location = f"{revision.label}:{violations[0].line}"  # type: ignore[union-attr]
        return report
    sandbox = sandbox or Sandbox.open()
    from migagent.tools import fence

    fenced = fence.fence_available(sandbox)
    start = _as_template(start, sandbox)
    with tempfile.TemporaryDirectory(prefix="migagent-fenced-") as tmp:
        request = {
            "source": revision.text,
            "label": revision.label,
            "path": str(revision.path) if revision.path else None,
            "start": _start_payload(start),
            "sandbox": {"url": sandbox.url, "embedded": sandbox.embedded},
            "fenced": fenced,
            "kwargs": {k: _encode(v) for k, v in verify_kwargs.items()},
            "result": str(Path(tmp) / "result.json"),
            "loaded": str(Path(tmp) / "loaded"),
            "limits": {"memory": MEMORY_LIMIT_BYTES, "file": FILE_LIMIT_BYTES, "cpu": limit + 5},
        }
        app_name = APP_NAME_PREFIX + secrets.token_hex(6)
        stderr_path = Path(tmp) / "stderr"
        with open(stderr_path, "wb") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-m", "migagent.tools.verify.fenced"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                env=_child_env(tmp, app_name),
                cwd=tmp,
                start_new_session=True,
            )
            recent_children.append(proc.pid)
            timed_out = False
            try:
                proc.communicate(json.dumps(request).encode(), timeout=limit)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                _kill(proc)
                _clean_up(sandbox, proc.pid, app_name)
        if timed_out:
            step = "upgrade" if Path(request["loaded"]).exists() else "load"
            message = f"the revision ran longer than {limit:g} s (limit {TIMEOUT_ENV})"
            return _failed(revision, start, step, [message], t0)
        return _read_result(
            revision, start, Path(request["result"]), proc.returncode, stderr_path, t0
        )


class RevisionRefused(Exception):
    """A model-written revision that may not run at all (static check, time limit)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def capture_untrusted(
    source: str, *, name: str = "revision.py", timeout_s: float | None = None
) -> list[str]:
    """The offline SQL of model-written `source` (what lint and the target preflight read),
    captured in a fenced child with the same static check, audit hook and time limit as
    `verify_untrusted`, and handed to `tools.lint.revision.preload`: the revision's Python
    never runs in this process. Returns the problems of a direction that could not be read
    offline; raises RevisionRefused when the revision may not run at all (static check,
    time limit). The source is marked untrusted either way."""
    from migagent.tools.lint import revision as capture

    capture.mark_untrusted(source)
    violations = check_source(source, filename=name)
    if violations:
        raise RevisionRefused([str(v) for v in violations])
    limit = float(timeout_s) if timeout_s is not None else revision_timeout_s()
    try:
        payload = _run_job({"job": "capture", "source": source, "label": name}, limit)
    except _JobFailed as exc:
        raise RevisionRefused([f"capturing the revision's SQL: {exc}"]) from None
    problems: list[str] = []
    for direction, data in payload.items():
        if "error" in data:
            problems.append(data["error"])
            continue
        capture.preload(source, direction, _decode_statements(data))
    return problems


class _JobFailed(Exception):
    """A fenced job timed out or ended without a result."""


def _run_job(
    request: dict[str, Any], limit: float, sandbox: Sandbox | None = None
) -> dict[str, Any]:
    """Run one job (`capture`, `estimate`) in a fenced child and return its JSON result."""
    with tempfile.TemporaryDirectory(prefix="migagent-fenced-") as tmp:
        request = {
            **request,
            "result": str(Path(tmp) / "result.json"),
            "limits": {"memory": MEMORY_LIMIT_BYTES, "file": FILE_LIMIT_BYTES, "cpu": limit + 5},
        }
        app_name = APP_NAME_PREFIX + secrets.token_hex(6)
        stderr_path = Path(tmp) / "stderr"
        with open(stderr_path, "wb") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-m", "migagent.tools.verify.fenced"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                env=_child_env(tmp, app_name),
                cwd=tmp,
                start_new_session=True,
            )
            recent_children.append(proc.pid)
            try:
                proc.communicate(json.dumps(request).encode(), timeout=limit)
            except subprocess.TimeoutExpired:
                raise _JobFailed(
                    f"the revision ran longer than {limit:g} s (limit {TIMEOUT_ENV})"
                ) from None
            finally:
                _kill(proc)
                if sandbox is not None:
                    _clean_up(sandbox, proc.pid, app_name)
        try:
            payload = json.loads(Path(request["result"]).read_text())
        except (OSError, ValueError):
            tail = _tail(stderr_path)
            raise _JobFailed(
                f"the fenced process exited with code {proc.returncode}: {tail}"
            ) from None
    if "error" in payload and isinstance(payload["error"], dict):
        err = payload["error"]
        raise MigagentError(err["problem"], err.get("fix"))
    return payload


def estimate_untrusted(
    source: str,
    template: str,
    *,
    rows: dict[str, int],
    sandbox: Sandbox,
    budget_s: float = 20.0,
) -> Any:
    """`tools.estimate.estimate_revision` for model-written source, in a fenced child on
    fenced scratch copies (static check first; the time limit is the budget plus a margin)."""
    from migagent.tools import fence
    from migagent.tools.estimate import Estimate

    violations = check_source(source, filename="estimate.py")
    if violations:
        raise MigagentError(f"the revision is not allowed to run: {violations[0]}")
    request = {
        "job": "estimate",
        "source": source,
        "template": template,
        "rows": rows,
        "budget_s": budget_s,
        "sandbox": {"url": sandbox.url, "embedded": sandbox.embedded},
        "fenced": fence.fence_available(sandbox),
    }
    try:
        payload = _run_job(request, budget_s * 3 + 30, sandbox)
    except _JobFailed as exc:
        raise MigagentError(f"estimate failed: {exc}") from None
    return Estimate.model_validate(payload["estimate"])


def _child_estimate(request: dict[str, Any]) -> dict[str, Any]:
    from migagent.tools.estimate import estimate_revision
    from migagent.tools.fence import FencedSandbox

    box = request["sandbox"]
    sandbox: Sandbox = (
        FencedSandbox(url=box["url"], embedded=box["embedded"])
        if request["fenced"]
        else Sandbox(url=box["url"], embedded=box["embedded"])
    )
    install_audit_hook(str(Path(request["result"]).parent))
    try:
        est = estimate_revision(
            request["source"],
            request["template"],
            rows=request["rows"],
            sandbox=sandbox,
            budget_s=request["budget_s"],
        )
    finally:
        sandbox.drop_all()
    return {"estimate": est.model_dump(mode="json")}


def _encode_statements(captured: Any) -> dict[str, Any]:
    return {
        "statements": [
            {
                "sql": s.sql,
                "file": s.file,
                "line": s.line,
                "column": s.column,
                "end_line": s.end_line,
                "in_transaction": s.in_transaction,
                "txn": s.txn,
                "suppressions": s.suppressions,
                "op_name": s.op_name,
                "synthetic": s.synthetic,
            }
            for s in captured.statements
        ],
        "stopped": list(captured.stopped) if captured.stopped else None,
        "used_bind": captured.used_bind,
        "notes": list(captured.notes),
    }


def _decode_statements(data: dict[str, Any]) -> Any:
    """Statements rebuilt from their SQL (parsed here: pglast nodes do not travel)."""
    from migagent.tools.lint.revision import RevisionStatements
    from migagent.tools.lint.statements import Statement
    from migagent.tools.sqlparse import parse_sql

    statements = []
    for item in data["statements"]:
        raws = parse_sql(item["sql"])
        if not raws:
            continue
        statements.append(Statement(node=raws[0].stmt, **item))
    stopped = tuple(data["stopped"]) if data["stopped"] else None
    return RevisionStatements(
        statements, stopped=stopped, used_bind=data["used_bind"], notes=data["notes"]
    )


def _child_capture(request: dict[str, Any]) -> dict[str, Any]:
    from migagent.tools.lint.revision import revision_statements

    install_audit_hook(str(Path(request["result"]).parent))
    out: dict[str, Any] = {}
    for direction in ("upgrade", "downgrade"):
        try:
            captured = revision_statements(request["source"], request["label"], direction)
        except MigagentError as exc:
            out[direction] = {"error": str(exc)}
            continue
        out[direction] = _encode_statements(captured)
    return out


# ------------------------------------------------------------------ parent side
def _as_template(start: StartingPoint, sandbox: Sandbox) -> StartingPoint:
    """Load SQL, schema files and the target's schema into a template here, in the
    parent: the child never sees the target's URL, and needs no psql or pg_dump."""
    if start.kind == "target":
        template = sandbox.template_from_target(start.value or "")
    elif start.kind == "sql":
        template = sandbox.template_from_sql(start.value or "", source=start.describe())
    elif start.kind == "file":
        template = sandbox.template_from_file(start.value or "")
    else:
        return start
    return StartingPoint("template", template, start.label)


def _child_env(tmp: str, app_name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in KEPT_ENV or k.startswith("LC_")}
    env.update(
        HOME=tmp,
        MIGAGENT_HOME=str(home_dir()),
        PGAPPNAME=app_name,
        PGPASSFILE=os.devnull,
        PGSERVICEFILE=os.devnull,
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the child's whole process group (it is its own session leader)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


def _clean_up(sandbox: Sandbox, pid: int, app_name: str) -> None:
    """End the child's database sessions, then drop every scratch database and fenced
    login it named.

    Sessions first: a CREATE DATABASE still running for a dead child would
    otherwise finish after the sweep and leave a database behind.
    """
    prefix = f"{SCRATCH_PREFIX}{pid}_".replace("_", r"\_") + "%"
    try:
        with sandbox.admin() as conn:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                rows = conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = %s AND pid <> pg_backend_pid()",
                    (app_name,),
                ).fetchall()
                if not rows:
                    break
                time.sleep(0.05)
            names = [
                r[0]
                for r in conn.execute(
                    "SELECT datname FROM pg_database WHERE datname LIKE %s", (prefix,)
                ).fetchall()
            ]
    except (psycopg.Error, MigagentError):
        return
    for name in names:
        sandbox.drop_database(name)
    from migagent.tools import fence

    for login in fence.logins_of(sandbox, pid):
        fence.drop_login(sandbox, login)


def _read_result(
    revision: RevisionSource,
    start: StartingPoint,
    path: Path,
    returncode: int | None,
    stderr_path: Path,
    t0: float,
) -> VerificationReport:
    try:
        payload = json.loads(path.read_text())
    except (OSError, ValueError):
        tail = _tail(stderr_path)
        why = f"the verification process exited with code {returncode} and no report"
        return _failed(revision, start, "load", [f"{why}: {tail}" if tail else why], t0)
    if "error" in payload:
        err = payload["error"]
        cls = {"UsageError": UsageError, "DatabaseError": DatabaseError}.get(
            err["type"], MigagentError
        )
        raise cls(err["problem"], err.get("fix"))
    return decode_report(payload)


def _tail(path: Path) -> str:
    try:
        text = path.read_bytes()[-_STDERR_TAIL:].decode(errors="replace")
    except OSError:
        return ""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1].strip() if lines else ""


def _failed(
    revision: RevisionSource, start: StartingPoint, step: str, reasons: list[str], t0: float
) -> VerificationReport:
    report = VerificationReport(source=revision.label, starting_point=start.describe())
    report.steps.append(StepResult(name=step, status="failed", reasons=reasons))  # type: ignore[arg-type]
    report.failure = Failure(step=step, message=reasons[0])  # type: ignore[arg-type]
    report.passed = False
    report.duration_ms = round((time.perf_counter() - t0) * 1000, 3)
    return report


# ------------------------------------------------------------------ encoding
def _start_payload(start: StartingPoint) -> dict[str, Any]:
    value = start.value
    if start.kind in ("file", "history") and value is not None:
        value = str(Path(value).resolve())  # the child runs in another folder
    return {"kind": start.kind, "value": value, "label": start.label}


def _encode(value: Any) -> Any:
    """JSON for a verify_revision keyword: plain values as they are, pydantic models
    with their class so the child can rebuild them."""
    if isinstance(value, BaseModel):
        cls = type(value)
        return {
            "__model__": f"{cls.__module__}:{cls.__qualname__}",
            "data": value.model_dump(mode="json"),
        }
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "__model__" in value:
        module, _, qualname = value["__model__"].partition(":")
        cls: Any = importlib.import_module(module)
        for part in qualname.split("."):
            cls = getattr(cls, part)
        return cls.model_validate(value["data"])
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def encode_report(report: VerificationReport) -> dict[str, Any]:
    """The report as JSON, with the fields `model_dump` leaves out (`exclude=True`)."""
    data = report.model_dump(mode="json")
    hidden = {}
    for field_name, info in VerificationReport.model_fields.items():
        if info.exclude:
            value = getattr(report, field_name)
            hidden[field_name] = TypeAdapter(_annotation(field_name)).dump_python(
                value, mode="json"
            )
    return {"report": data, "hidden": hidden}


def decode_report(payload: dict[str, Any]) -> VerificationReport:
    report = VerificationReport.model_validate(payload["report"])
    for field_name, value in payload.get("hidden", {}).items():
        setattr(report, field_name, TypeAdapter(_annotation(field_name)).validate_python(value))
    return report


def _annotation(field_name: str) -> Any:
    """A report field's declared type (every field of the model is annotated)."""
    annotation = VerificationReport.model_fields[field_name].annotation
    if annotation is None:
        raise TypeError(f"VerificationReport.{field_name} has no annotation")
    return annotation


# ------------------------------------------------------------------ child side
def _limit_resources(limits: dict[str, float]) -> None:
    try:
        import resource
    except ImportError:  # not on POSIX: the wall-clock limit still applies
        return
    for which, value in (
        (resource.RLIMIT_AS, limits.get("memory")),
        (resource.RLIMIT_FSIZE, limits.get("file")),
        (resource.RLIMIT_CPU, limits.get("cpu")),
        (resource.RLIMIT_CORE, 0),
    ):
        if value is None:
            continue
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(which, (int(value), int(value)))


#: Audit events the child refuses once the revision starts loading: new processes,
#: signals to others, native code, hand-made code objects and functions.
REFUSED_EVENTS = frozenset(
    {
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "os.forkpty",
        "os.kill",
        "os.killpg",
        "os.startfile",
        "pty.spawn",
        "subprocess.Popen",
        "signal.pthread_kill",
        "ctypes.dlopen",
        "ctypes.dlsym",
        "ctypes.addressof",
        "ctypes.cdata",
        "ctypes.string_at",
        "ctypes.wstring_at",
        "code.__new__",
        "function.__new__",
        "sys.setprofile",
        "sys.settrace",
        "winreg.OpenKey",
    }
)
#: Events that change the file system: refused outside the child's private folder.
FILE_EVENTS = frozenset(
    {
        "os.remove",
        "os.rename",
        "os.rmdir",
        "os.mkdir",
        "os.chmod",
        "os.chown",
        "os.link",
        "os.symlink",
        "os.truncate",
        "os.utime",
        "shutil.rmtree",
        "shutil.copyfile",
        "shutil.move",
    }
)
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def install_audit_hook(private_dir: str) -> None:
    """Refuse, from now on in this process, what no revision needs: spawning processes,
    signalling, native code, building code objects, writing files outside `private_dir`.

    A second layer behind the static check (an audit hook cannot be removed);
    database connections made by libpq are not audit events, so the fenced role
    and the credential-free environment stay what bounds those.
    """
    root = os.path.realpath(private_dir) + os.sep

    def inside(path: object) -> bool:
        if isinstance(path, int):
            return True  # an already-open descriptor
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        return isinstance(path, str) and os.path.realpath(path).startswith(root)

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event in REFUSED_EVENTS:
            raise PermissionError(f"migagent fence: {event} is not allowed in a revision")
        if event == "open":
            path, mode, flags = (*args, None, None, None)[:3]
            writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and bool(flags & _WRITE_FLAGS)
            )
            if writes and not inside(path):
                raise PermissionError(f"migagent fence: writing {path} is not allowed")
        elif event in FILE_EVENTS and args and not inside(args[0]):
            raise PermissionError(f"migagent fence: {event} on {args[0]} is not allowed")

    sys.addaudithook(hook)


def _child_main() -> int:
    """Read the request on stdin, verify, write the report where the parent said."""
    request = json.loads(sys.stdin.read())
    _limit_resources(request.get("limits", {}))
    result = Path(request["result"])
    try:
        job = {"capture": _child_capture, "estimate": _child_estimate}.get(
            request.get("job", ""), _child_verify
        )
        payload = job(request)
    except MigagentError as exc:
        payload = {"error": {"type": type(exc).__name__, "problem": exc.problem, "fix": exc.fix}}
    result.write_text(json.dumps(payload))
    return 0


def _child_verify(request: dict[str, Any]) -> dict[str, Any]:
    from migagent.tools.fence import FencedSandbox
    from migagent.tools.verify.verify import verify_revision

    box = request["sandbox"]
    sandbox: Sandbox = (
        FencedSandbox(url=box["url"], embedded=box["embedded"])
        if request["fenced"]
        else Sandbox(url=box["url"], embedded=box["embedded"])
    )
    path = request["path"]
    revision = RevisionSource(
        text=request["source"], label=request["label"], path=Path(path) if path else None
    )
    start = StartingPoint(**request["start"])
    kwargs = {k: _decode(v) for k, v in request["kwargs"].items()}
    install_audit_hook(str(Path(request["result"]).parent))
    with contextlib.suppress(MigagentError):
        revision.load()  # the top level runs here first, so a hang there reads as "load"
    Path(request["loaded"]).touch()
    try:
        report = verify_revision(revision, start, sandbox=sandbox, **kwargs)
    finally:
        sandbox.drop_all()
    return encode_report(report)


if __name__ == "__main__":
    try:
        _code = _child_main()
    except BaseException as exc:  # whatever it was, the parent reads the last stderr line
        sys.stderr.write(f"\n{type(exc).__name__}: {first_line(exc)}\n")
        _code = 3
    sys.exit(_code)
