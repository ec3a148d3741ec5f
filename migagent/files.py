"""File output that never leaves a half-written file behind.

A revision or spec that is cut short by a crash or Ctrl-C would be picked up by
Alembic (or a reviewer) as if it were complete, so every write goes to a
temporary file in the same directory and is moved into place with
`os.replace`, which is atomic on POSIX and Windows.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from migagent.errors import UsageError


def write_atomic(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> Path:
    """Write `text` to `path` atomically and return the path.

    The temporary file lives beside the target so `os.replace` never crosses a
    file system. An existing file keeps its permission bits; a new file gets the
    usual 0o666 minus umask instead of `mkstemp`'s 0o600.
    """
    target = Path(path)
    directory = target.parent
    try:
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
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise UsageError(
            f"cannot write {target}: {exc.strerror or exc}",
            "check that the directory exists and is writable",
        ) from exc
    return target
