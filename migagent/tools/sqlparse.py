"""pglast's parser, made unable to take the process down.

pglast's parser recurses once per nesting level of an expression; a deep
enough one (a 100 KB `1+1+...`, ~25,000 terms) overflows an 8 MB thread stack
and kills the whole process with SIGSEGV: `migagent lint` exited 139 with no
output, and a draft died without cleaning up (issue 18). So every parse here:

1. counts operator tokens and bracket depth with pglast's *scanner*, which
   does not recurse, and refuses input past `MAX_OPERATORS` / `MAX_NESTING`
   in one line (ParseTooDeep, a UsageError);
2. runs on a thread with a `PARSE_STACK_BYTES` stack (virtual memory: only
   the pages a parse touches are used), so the bound holds whatever thread the
   caller runs on (measured: ~320 bytes of stack per `+` term).
"""

from __future__ import annotations

import threading
from typing import Any

from pglast import parse_sql as _pglast_parse
from pglast.parser import ParseError, scan

from migagent.errors import UsageError

PARSE_STACK_BYTES = 256 * 1024**2
#: per parse; 256 MiB of stack holds ~800,000 terms, so this leaves a wide margin
MAX_OPERATORS = 200_000
MAX_NESTING = 10_000

_OPEN = frozenset({"ASCII_40", "ASCII_91"})  # ( [
_CLOSE = frozenset({"ASCII_41", "ASCII_93"})
_OPERATORS = frozenset(
    {"ASCII_43", "ASCII_45", "ASCII_42", "ASCII_47", "ASCII_37", "ASCII_94", "ASCII_60",
     "ASCII_62", "ASCII_61", "Op", "LESS_EQUALS", "GREATER_EQUALS", "NOT_EQUALS", "AND", "OR",
     "TYPECAST", "ASCII_44"}
)  # fmt: skip


class ParseTooDeep(UsageError):
    """SQL nested or chained past what the parser can take without crashing."""


def shape(sql: str) -> tuple[int, int]:
    """(operator tokens, deepest bracket nesting), from the non-recursive scanner."""
    depth = deepest = operators = 0
    for token in scan(sql):
        if token.name in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        elif token.name in _CLOSE:
            depth -= 1
        elif token.name in _OPERATORS:
            operators += 1
    return operators, deepest


def check_shape(sql: str, *, what: str = "the SQL") -> None:
    """Refuse input the parser would recurse too deep on (ParseError passes through)."""
    operators, deepest = shape(sql)
    if operators > MAX_OPERATORS or deepest > MAX_NESTING:
        raise ParseTooDeep(
            f"{what} has {operators:,} operators and nests {deepest:,} brackets deep, more than "
            f"migagent parses safely ({MAX_OPERATORS:,} / {MAX_NESTING:,})",
            "split the expression, or generate it in a function",
        )


_STACK_SIZE_LOCK = threading.Lock()  # threading.stack_size is process-wide


def on_big_stack(sql: str) -> tuple[Any, ...]:
    """pglast's `parse_sql` on a thread with a `PARSE_STACK_BYTES` stack."""
    out: dict[str, Any] = {}
    worker: threading.Thread | None

    def run() -> None:
        try:
            out["stmts"] = _pglast_parse(sql)
        except BaseException as exc:  # handed to the caller's thread
            out["error"] = exc

    with _STACK_SIZE_LOCK:
        previous = threading.stack_size(PARSE_STACK_BYTES)
        try:
            worker = threading.Thread(target=run, name="migagent-parse", daemon=True)
            worker.start()
        except RuntimeError:  # no room for such a stack: the shape bound still applies
            worker = None
        finally:
            threading.stack_size(previous)
    if worker is None:
        run()
    else:
        worker.join()
    if "error" in out:
        raise out["error"]
    return tuple(out["stmts"])


def parse_sql(sql: str, *, what: str = "the SQL") -> tuple[Any, ...]:
    """`pglast.parse_sql` that refuses (ParseTooDeep) instead of crashing; ParseError as usual."""
    if len(sql) > 2_000:  # short SQL cannot nest deep enough to matter
        check_shape(sql, what=what)
        return on_big_stack(sql)
    return tuple(_pglast_parse(sql))


__all__ = ["MAX_NESTING", "MAX_OPERATORS", "ParseError", "ParseTooDeep", "parse_sql"]
