"""Typed access to the pglast AST fields the parser always fills.

pglast's stubs declare every node field Optional, because a node built by hand
may leave any of them out. A node from `parse_sql` does not: a RangeVar always
has a relname, an ALTER COLUMN subcommand always names its column. These
accessors check that once and give the checker the narrowed type; a missing
field raises ValueError naming it (a node built by hand, not parser output).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, TypeVar, overload

from pglast import ast

N = TypeVar("N", bound=ast.Node)


def _missing(node: ast.Node, field: str) -> ValueError:
    return ValueError(f"{type(node).__name__} without {field}: not a node from parse_sql")


@overload
def relname(rv: ast.RangeVar) -> str: ...
@overload
def relname(rv: None) -> None: ...
@overload
def relname(rv: ast.RangeVar | None) -> str | None: ...
def relname(rv: ast.RangeVar | None) -> str | None:
    """`schema.name` or `name`, as written (None for no relation)."""
    if rv is None:
        return None
    if rv.relname is None:
        raise _missing(rv, "relname")
    return f"{rv.schemaname}.{rv.relname}" if rv.schemaname else rv.relname


class _HasRelation(Protocol):
    @property
    def relation(self) -> ast.RangeVar | None: ...


def relation(node: _HasRelation) -> ast.RangeVar:
    """The table a statement acts on, for statements that always name one
    (ALTER TABLE, CREATE TABLE, CREATE INDEX, UPDATE, DELETE, INSERT, ...)."""
    rv = node.relation
    if rv is None:
        raise ValueError(f"{type(node).__name__} without relation: not a node from parse_sql")
    return rv


def bare_relname(rv: ast.RangeVar) -> str:
    """The relation's name without its schema."""
    if rv.relname is None:
        raise _missing(rv, "relname")
    return rv.relname


def column_name(col: ast.ColumnDef) -> str:
    """The column a CREATE TABLE / ADD COLUMN definition names."""
    if col.colname is None:
        raise _missing(col, "colname")
    return col.colname


def column_type(col: ast.ColumnDef) -> ast.TypeName:
    """The type a CREATE TABLE / ADD COLUMN / ALTER COLUMN TYPE definition gives."""
    if col.typeName is None:
        raise _missing(col, "typeName")
    return col.typeName


def cmd_name(cmd: ast.AlterTableCmd) -> str:
    """The column or constraint an ALTER TABLE subcommand names (ALTER COLUMN,
    SET NOT NULL, VALIDATE / DROP CONSTRAINT, DROP COLUMN all carry one)."""
    if cmd.name is None:
        raise _missing(cmd, "name")
    return cmd.name


def sval(node: Any) -> str:
    """The text of a String node (a name part, a keyword argument)."""
    if not isinstance(node, ast.String) or node.sval is None:
        raise ValueError(f"expected a String node, got {type(node).__name__}")
    return node.sval


def svals(items: Iterable[Any] | None) -> list[str]:
    """The texts of a list of String nodes (a qualified name, a column list)."""
    return [sval(i) for i in items or ()]


def dotted(items: Iterable[Any] | None) -> str:
    """A qualified name's parts joined with dots (`schema.table`)."""
    return ".".join(svals(items))


def node_as(node: object, cls: type[N]) -> N:
    """`node` as the class a rule or handler was registered for (or that the parser
    always puts in that field, e.g. the ColumnDef of ALTER COLUMN TYPE)."""
    if not isinstance(node, cls):
        raise TypeError(f"expected {cls.__name__}, got {type(node).__name__}")
    return node
