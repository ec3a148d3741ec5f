"""File output that never leaves a half-written file, or half a pair, behind.

A revision or spec that is cut short by a crash or Ctrl-C would be picked up by
Alembic (or a reviewer) as if it were complete, so every write goes to a
temporary file in the same directory and is moved into place with
`os.replace`, which is atomic on POSIX and Windows. A revision and its spec
are one unit (`migagent check` rejects a revision without its spec), so
`write_all` writes every temporary file first and moves them into place only
when all were written, undoing the moves it made if a later one fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from migagent.errors import UsageError


def write_atomic(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> Path:
    """Write `text` to `path` atomically and return the path.

    The temporary file lives beside the target so `os.replace` never crosses a
    file system. An existing file keeps its permission bits; a new file gets the
    usual 0o666 minus umask instead of `mkstemp`'s 0o600.
    """
    return write_all([(path, text)], encoding=encoding)[0]


def write_all(
    files: Sequence[tuple[str | os.PathLike[str], str]], *, encoding: str = "utf-8"
) -> list[Path]:
    """Write every `(path, text)` or none of them; return the paths.

    On any failure no target is left changed: temporary files are removed, and
    targets already moved into place are restored (or removed when they were new).
    """
    targets = [Path(p) for p, _ in files]
    temps: list[str] = []
    try:
        for target, (_, text) in zip(targets, files, strict=True):
            temps.append(_write_temp(target, text, encoding))
    except OSError as exc:
        _remove(temps)
        raise _error(targets[len(temps)], exc) from exc
    except BaseException:
        _remove(temps)
        raise
    placed: list[tuple[Path, str | None]] = []  # (target, backup of what it replaced)
    try:
        for target, tmp in zip(targets, temps, strict=True):
            backup = _backup(target)
            try:
                os.replace(tmp, target)
            except BaseException:
                _remove([backup] if backup else [])
                raise
            placed.append((target, backup))
    except BaseException as exc:
        _undo(placed)
        _remove(temps)
        if isinstance(exc, OSError):
            raise _error(targets[len(placed)], exc) from exc
        raise
    _remove([b for _, b in placed if b])
    return targets


def _write_temp(target: Path, text: str, encoding: str) -> str:
    """A fully written, synced temporary file beside `target` with `target`'s mode."""
    directory = target.parent
    directory.mkdir(parents=True, exist_ok=True)
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
    except BaseException:
        _remove([tmp])
        raise
    return tmp


def _backup(target: Path) -> str | None:
    """A copy of an existing `target` (a hard link when possible), to restore on failure."""
    if not target.is_file():
        return None
    fd, backup = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".bak", dir=target.parent)
    os.close(fd)
    try:
        os.unlink(backup)
        os.link(target, backup)
    except OSError:
        shutil.copy2(target, backup)
    return backup


def _undo(placed: list[tuple[Path, str | None]]) -> None:
    for target, backup in reversed(placed):
        with contextlib.suppress(OSError):
            if backup:
                os.replace(backup, target)
            else:
                os.unlink(target)


def _remove(paths: Sequence[str]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _error(target: Path, exc: OSError) -> UsageError:
    return UsageError(
        f"cannot write {target}: {exc.strerror or exc}; nothing was written",
        "check that the directory exists and is writable",
    )
