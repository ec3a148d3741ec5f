"""Writing SQL text: identifiers and literals, quoted the way PostgreSQL does.

The one place for it: lowering, the linter's fixes, the DDL renderer, the
planner, the spec and the data generator all quote through these functions.
`quote_ident` follows PostgreSQL's own `quote_ident()`: a name is left bare
only when it is lower case, starts with a letter or `_`, holds only letters,
digits, `_` and `$`, and is not a keyword that PostgreSQL would need quoted
(reserved, type/function-name and column-name keywords, from pglast's copy of
the server's keyword list).
"""

from __future__ import annotations

import re

from pglast.keywords import COL_NAME_KEYWORDS, RESERVED_KEYWORDS, TYPE_FUNC_NAME_KEYWORDS

_KEYWORDS = frozenset(RESERVED_KEYWORDS | TYPE_FUNC_NAME_KEYWORDS | COL_NAME_KEYWORDS)
_SIMPLE = re.compile(r"[a-z_][a-z0-9_$]*")


def quote_ident(name: str) -> str:
    """`orders` -> `orders`, `Order` -> `"Order"`, `user` -> `"user"` (as quote_ident())."""
    if _SIMPLE.fullmatch(name) and name not in _KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def quote_qualified(schema: str, name: str) -> str:
    """`schema.name`, both parts quoted as needed."""
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def split_table(table: str) -> tuple[str | None, str]:
    """`sales.orders` -> (`sales`, `orders`); `orders` -> (None, `orders`)."""
    schema, dot, name = table.rpartition(".")
    return (schema if dot else None), name


def quote_table(table: str) -> str:
    """A table name as a migration writes it: schema-qualified only outside `public`."""
    schema, name = split_table(table)
    if schema in (None, "public"):
        return quote_ident(name)
    return quote_qualified(schema, name)


def quote_literal(value: str) -> str:
    """A string constant: `it's` -> `'it''s'`."""
    return "'" + value.replace("'", "''") + "'"
