"""Load an Alembic revision module, from a file or from source text.

A revision is any Python module with `upgrade()` (and, for a round trip,
`downgrade()`) written against `alembic.op`; `env.py` is not needed. Import
problems become a `RevisionLoadError` that says where (file:line) and why,
never a traceback. A revision inside an Alembic project (an `env.py` or an
`alembic.ini` above it) also exposes that project, so its history can be
replayed to the revision's `down_revision`.
"""

from __future__ import annotations

import contextlib
import hashlib
import linecache
import sys
import traceback
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from migagent.errors import MigagentError, UsageError


class RevisionLoadError(MigagentError):
    """The revision file does not import, or lacks what verify needs (exit 1)."""

    exit_code = 1

    def __init__(self, message: str, location: str | None = None) -> None:
        self.message = message
        self.location = location
        super().__init__(f"{location}: {message}" if location else message)


@dataclass(frozen=True)
class RevisionSource:
    """Where a revision comes from: a file, or text a drafting backend holds."""

    text: str
    label: str  # file path, or the name given to from_text
    path: Path | None = None

    @classmethod
    def from_path(cls, path: str | Path) -> RevisionSource:
        p = Path(path)
        if not p.is_file():
            raise UsageError(
                f"revision file {p} does not exist", "give the path of an Alembic revision .py file"
            )
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(
                f"cannot read revision file {p}: {exc}", "give a readable UTF-8 .py file"
            ) from None
        return cls(text=text, label=str(p), path=p.resolve())

    @classmethod
    def from_text(cls, text: str, *, name: str = "revision.py") -> RevisionSource:
        return cls(text=text, label=name, path=None)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:16]

    def load(self) -> RevisionModule:
        """Import the module; RevisionLoadError says where and why it failed."""
        try:
            code = compile(self.text, self.label, "exec")
        except SyntaxError as exc:
            where = f"{self.label}:{exc.lineno}" if exc.lineno else self.label
            raise RevisionLoadError(f"SyntaxError: {exc.msg}", where) from None
        linecache.cache[self.label] = (len(self.text), None, self.text.splitlines(True), self.label)
        name = f"migagent_revision_{self.digest}"
        module = types.ModuleType(name)
        module.__file__ = self.label
        sys.modules[name] = module  # dataclasses, typing and pickling look modules up here
        try:
            with self.import_paths():
                exec(code, module.__dict__)
        except Exception as exc:
            raise RevisionLoadError(
                f"importing the revision raised {describe_exception(exc)}",
                python_location(exc, self.label),
            ) from None
        except BaseException as exc:  # SystemExit, KeyboardInterrupt, ... at module top level
            raise RevisionLoadError(
                f"the revision raised {describe_base_exception(exc)} at module top level",
                python_location(exc, self.label),
            ) from None
        finally:
            sys.modules.pop(name, None)
        upgrade = getattr(module, "upgrade", None)
        if not callable(upgrade):
            raise RevisionLoadError("the revision has no upgrade() function", self.label)
        downgrade = getattr(module, "downgrade", None)
        return RevisionModule(
            module=module,
            source=self,
            revision=_as_revision(getattr(module, "revision", None)),
            down_revision=_as_revision(getattr(module, "down_revision", None)),
            upgrade=upgrade,
            downgrade=downgrade if callable(downgrade) else None,
        )

    @contextlib.contextmanager
    def import_paths(self) -> Iterator[None]:
        """Put the revision's folder and its project root on sys.path (for its own imports)."""
        extra: list[str] = []
        if self.path is not None:
            extra.append(str(self.path.parent))
            project = find_project(self.path)
            if project is not None:
                extra.append(str(project.root))
        added = [p for p in dict.fromkeys(extra) if p not in sys.path]
        sys.path[:0] = added
        try:
            yield
        finally:
            for p in added:
                with contextlib.suppress(ValueError):
                    sys.path.remove(p)


@dataclass
class RevisionModule:
    """A loaded revision."""

    module: types.ModuleType
    source: RevisionSource
    revision: str | tuple[str, ...] | None
    down_revision: str | tuple[str, ...] | None
    upgrade: Callable[[], object]
    downgrade: Callable[[], object] | None = field(default=None)

    @property
    def label(self) -> str:
        return self.source.label


@dataclass(frozen=True)
class AlembicProject:
    """An Alembic project: its script directory and (optionally) its alembic.ini."""

    root: Path  # folder holding alembic.ini, else the script directory's parent
    script_location: Path
    ini: Path | None = None

    def script_directory(self):
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        try:
            if self.ini is not None:
                config = Config(str(self.ini))
                config.set_main_option("script_location", str(self.script_location))
                return ScriptDirectory.from_config(config)
            return ScriptDirectory(str(self.script_location))
        except Exception as exc:
            raise UsageError(
                f"cannot read the Alembic project at {self.script_location}: {describe_exception(exc)}",
                "check alembic.ini and the versions folder",
            ) from None


def find_project(revision_path: Path) -> AlembicProject | None:
    """The Alembic project a revision file lives in, or None for a standalone file.

    Looks for `env.py` beside or above the file (the script location; revisions
    live in its `versions/` folder) and for `alembic.ini` above that.
    """
    path = revision_path.resolve()
    script_location = None
    for parent in list(path.parents)[:3]:
        if (parent / "env.py").is_file():
            script_location = parent
            break
    if script_location is None:
        return None
    ini = None
    for parent in [script_location, *list(script_location.parents)[:3]]:
        if (parent / "alembic.ini").is_file():
            ini = parent / "alembic.ini"
            break
    root = ini.parent if ini is not None else script_location.parent
    return AlembicProject(root=root, script_location=script_location, ini=ini)


def describe_exception(exc: BaseException) -> str:
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def describe_base_exception(exc: BaseException) -> str:
    """`SystemExit(0)`, `KeyboardInterrupt()`, `Stop('why')`: the exception as raised."""
    args = ", ".join(_short_repr(a) for a in exc.args)
    return f"{type(exc).__name__}({args})"


def _short_repr(value: object, limit: int = 80) -> str:
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def python_location(exc: BaseException, label: str) -> str | None:
    """`file:line in func()` of the innermost frame in the revision file, else the innermost."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return None
    mine = [f for f in frames if f.filename == label]
    frame = (mine or frames)[-1]
    where = f"{frame.filename}:{frame.lineno}"
    return where if frame.name == "<module>" else f"{where} in {frame.name}()"


def _as_revision(value: object) -> str | tuple[str, ...] | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return str(value)
