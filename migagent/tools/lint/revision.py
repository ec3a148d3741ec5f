"""SQL statements of an Alembic revision, via Alembic's offline (`--sql`) mode.

The revision is loaded standalone (it need not sit in an Alembic project) and
its `upgrade()` runs against an offline `MigrationContext` for PostgreSQL, the
way `alembic upgrade --sql` renders it. Every rendered statement is captured
with:

- the line of the `op.*` call that produced it (the innermost frame in the
  revision file at capture time), for locations and `# migagent: ignore[...]`;
- the Alembic operation object (so e.g. `alter_column(existing_type=...)` is known);
- transaction context: Alembic runs a PostgreSQL revision in one transaction
  (`transactional_ddl`), and `autocommit_block()` emits COMMIT ... BEGIN around
  its body in offline mode, which `assign_transactions` follows.

Data migrations that need results from `op.get_bind()` cannot run offline; what
ran before that point is linted and the rest is reported as not linted.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import os
import sys
import threading
import tokenize
import types
from dataclasses import dataclass, field
from typing import Any

from migagent.errors import UsageError
from migagent.tools.lint.statements import (
    Statement,
    assign_transactions,
    attach_by_line,
    parse_directives,
    split_sql,
)

# Alembic's `op` proxy is process-global: one revision at a time.
_OP_LOCK = threading.Lock()


@dataclass
class RevisionStatements:
    statements: list[Statement]
    #: (line, message) when upgrade() stopped early, e.g. a data migration reading results
    stopped: tuple[int, str] | None = None
    used_bind: bool = False
    notes: list[str] = field(default_factory=list)


@dataclass
class _Captured:
    text: str
    line: int
    end_line: int
    column: int
    op: Any
    synthetic: bool


def _frame_position(filename: str) -> tuple[int, int, int]:
    """(line, end_line, column) of the innermost executing call in `filename`."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename != filename:
        frame = frame.f_back
    if frame is None:
        return 0, 0, 0
    try:
        positions = list(frame.f_code.co_positions())
        line, end_line, col, _ = positions[frame.f_lasti // 2]
    except (IndexError, ValueError):
        line, end_line, col = frame.f_lineno, frame.f_lineno, 0
    line = line or frame.f_lineno
    return line, end_line or line, (col or 0) + 1


def _comment_directives(source: str) -> dict[int, dict[str, str]]:
    """line -> directives for every `# migagent: ignore[...]` comment in `source`."""
    out: dict[int, dict[str, str]] = {}
    if "migagent:" not in source:
        return out
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                d = parse_directives(tok.string)
                if d:
                    out.setdefault(tok.start[0], {}).update(d)
    except (tokenize.TokenError, SyntaxError):  # pragma: no cover - compile() ran first
        pass
    return out


def _load(source: str, filename: str) -> types.ModuleType:
    try:
        code = compile(source, filename, "exec")
    except SyntaxError as exc:
        raise UsageError(
            f"{filename}:{exc.lineno}: not valid Python: {exc.msg}",
            "fix the revision file",
        ) from None
    module = types.ModuleType("_migagent_lint_revision")
    module.__file__ = filename
    folder = os.path.dirname(os.path.abspath(filename)) if os.path.exists(filename) else None
    if folder:
        sys.path.insert(0, folder)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(code, module.__dict__)
    except Exception as exc:
        raise UsageError(
            f"cannot load revision {filename}: {type(exc).__name__}: {exc}",
            "make its imports importable here (run from the project's environment)",
        ) from None
    finally:
        if folder and sys.path and sys.path[0] == folder:
            sys.path.pop(0)
    return module


# Model-written revisions never run in this process: their offline SQL is captured in the
# fenced child (`tools.verify.fenced.capture_untrusted`) and handed in here, keyed by the
# source's digest and direction. A source marked untrusted without a capture is refused.
_PRELOADED: dict[tuple[str, str], RevisionStatements] = {}
_UNTRUSTED: set[str] = set()
_PRELOAD_LOCK = threading.Lock()


def _digest(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


def preload(source: str, direction: str, captured: RevisionStatements) -> None:
    """Use `captured` (made elsewhere, e.g. in a fenced child) for `source` from now on."""
    with _PRELOAD_LOCK:
        _PRELOADED[(_digest(source), direction)] = captured
        _UNTRUSTED.add(_digest(source))


def mark_untrusted(source: str) -> None:
    """`source` must never be executed in this process (only a preloaded capture is used)."""
    with _PRELOAD_LOCK:
        _UNTRUSTED.add(_digest(source))


def is_untrusted(source: str) -> bool:
    return _digest(source) in _UNTRUSTED


def is_preloaded(source: str, direction: str = "upgrade") -> bool:
    return (_digest(source), direction) in _PRELOADED


def revision_statements(
    source: str, filename: str = "<revision>", direction: str = "upgrade"
) -> RevisionStatements:
    """Run the revision's `upgrade()` (or `downgrade()`) offline and return its
    statements, in order, with transaction context, locations and suppressions."""
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    key = (_digest(source), direction)
    if key in _PRELOADED:
        return copy.deepcopy(_PRELOADED[key])
    if key[0] in _UNTRUSTED:
        raise UsageError(
            f"{filename} is model-written: its {direction}() runs only in the fenced child",
            "prove it through migagent.tools.proof.prove(..., untrusted=True)",
        )
    module = _load(source, filename)
    upgrade = getattr(module, direction, None)
    if not callable(upgrade):
        raise UsageError(
            f"{filename} has no {direction}() function",
            "lint an Alembic revision file or a .sql file",
        )

    captured: list[_Captured] = []
    state: dict[str, Any] = {"op": None, "bind": False, "autocommit": 0}

    buf = io.StringIO()
    with _OP_LOCK:
        ctx = MigrationContext.configure(
            dialect_name="postgresql",
            # named paramstyle: `%` in the SQL stays `%` (pyformat doubles it to `%%`)
            dialect_opts={"paramstyle": "named"},
            opts={"as_sql": True, "output_buffer": buf, "literal_binds": True},
        )
        impl = ctx.impl

        def static_output(text: str) -> None:
            line, end_line, col = _frame_position(filename)
            stripped = text.strip().rstrip(";").strip().upper()
            synthetic = stripped in ("BEGIN", "COMMIT") and state["op"] is None
            captured.append(_Captured(text, line, end_line, col, state["op"], synthetic))

        impl.static_output = static_output  # type: ignore[method-assign]
        ops = Operations(ctx)
        invoke, get_bind = ops.invoke, ops.get_bind

        def capturing_invoke(operation):
            previous, state["op"] = state["op"], operation
            try:
                return invoke(operation)
            finally:
                state["op"] = previous

        def noting_get_bind():
            state["bind"] = True
            return get_bind()

        # instance attributes: Alembic's proxy is keyed on the Operations class itself
        ops.invoke = capturing_invoke  # type: ignore[method-assign]
        ops.get_bind = noting_get_bind  # type: ignore[method-assign]
        ops._install_proxy()
        stopped = None
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                upgrade()
        except Exception as exc:
            tb = exc.__traceback__
            line = 0
            while tb is not None:
                if tb.tb_frame.f_code.co_filename == filename:
                    line = tb.tb_lineno
                tb = tb.tb_next
            if not state["bind"]:
                raise UsageError(
                    f"{filename}:{line}: {direction}() failed in Alembic offline mode: "
                    f"{type(exc).__name__}: {exc}",
                    "lint the SQL it runs as a .sql file, or fix the revision",
                ) from None
            stopped = (line, f"{type(exc).__name__}: {exc}")
        finally:
            ops._remove_proxy()

    directives = _comment_directives(source)
    statements: list[Statement] = []
    for cap in captured:
        parts = split_sql(cap.text, filename)
        for part in parts:
            part.line, part.end_line, part.column = cap.line, cap.end_line, cap.column
            part.op = cap.op
            part.op_name = _op_name(cap.op)
            part.synthetic = cap.synthetic
        statements.extend(parts)
    _attach_py_comments(statements, directives)
    assign_transactions(statements, in_transaction=True)
    return RevisionStatements(statements, stopped=stopped, used_bind=state["bind"])


def _op_name(op: Any) -> str | None:
    if op is None:
        return None
    name = type(op).__name__
    if name.endswith("Op"):
        name = name[:-2]
    # CreateIndex -> create_index
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def _attach_py_comments(stmts: list[Statement], directives: dict[int, dict[str, str]]) -> None:
    """A `# migagent: ignore[...]` comment applies to the op call whose lines it is
    on, or to the next call when it stands on its own line(s) above it."""
    for line, d in directives.items():
        attach_by_line(stmts, line, d)
