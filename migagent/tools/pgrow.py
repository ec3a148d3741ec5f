"""The one value of a query that always returns exactly one row.

`SHOW x`, an aggregate without GROUP BY, `SELECT f()` return one row by
construction; psycopg's `fetchone()` is typed `row | None` for every query.
`scalar` reads that row once and says so if the promise is broken.
"""

from __future__ import annotations

from typing import Any

import psycopg


def scalar(cur: psycopg.Cursor[Any]) -> Any:
    """The first column of the single row `cur` returned (SHOW, count(*), SELECT f())."""
    row = cur.fetchone()
    if row is None:
        raise psycopg.ProgrammingError("a query that always returns one row returned none")
    return row[0]
