"""The registry of statement kinds: one small pure function per kind, `node -> checks`.

A kind function is registered for one dispatch key: a statement node type
(`ast.IndexStmt`, `ast.DropStmt`), an ALTER TABLE subcommand
(`AlterTableType.AT_SetNotNull`) or an added constraint's type
(`ConstrType.CONSTR_FOREIGN`, which receives the `ast.Constraint`). It reads the
`PlanContext` and returns the statement's checks; it never changes state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from migagent.tools.preflight.context import PlanContext
from migagent.tools.preflight.model import PreflightCheck

KindFn = Callable[[Any, PlanContext], list[PreflightCheck]]

KINDS: dict[tuple[type, object], list[KindFn]] = {}


def _key(key: object) -> tuple[type, object]:
    """Enum members of different enums compare equal as ints (AT_SetNotNull == CONSTR_CHECK
    == 5): key by (enum class, member)."""
    return (type(key), key)


def kind(*keys: object) -> Callable[[KindFn], KindFn]:
    """Register `fn` for every dispatch key in `keys`."""

    def deco(fn: KindFn) -> KindFn:
        for key in keys:
            KINDS.setdefault(_key(key), []).append(fn)
        return fn

    return deco


def checks_for(key: object, node: Any, ctx: PlanContext) -> list[PreflightCheck]:
    return [c for fn in KINDS.get(_key(key), ()) for c in fn(node, ctx)]
