"""PostgreSQL connection URLs: validation, libpq/SQLAlchemy forms, friendly errors.

Users paste URLs in every dialect (`postgres://`, `postgresql+psycopg2://`,
SQLAlchemy's `+psycopg`); psycopg wants plain libpq and SQLAlchemy wants a
driver. All of that is normalised here, once.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit, urlunsplit

import psycopg

from migagent.errors import DatabaseError, UsageError

_SCHEMES = {"postgres", "postgresql"}


def split(url: str) -> SplitResult:
    """`urlsplit`, with a UsageError naming the URL instead of a ValueError (`[::1`
    without its `]`). Ports are left to libpq, which also takes `h1:5432,h2:5433`."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise UsageError(
            f"invalid connection URL {redact(url)}: {exc}",
            "give a URL like postgresql://user@host:5432/dbname (IPv6 hosts in brackets: "
            "postgresql://user@[::1]:5432/dbname)",
        ) from None
    return parts


def libpq_url(url: str) -> str:
    """Return `url` as a libpq URL (drop any `+driver`), or raise UsageError."""
    parts = split(url)
    scheme, _, _driver = parts.scheme.partition("+")
    if scheme not in _SCHEMES:
        shown = parts.scheme or url
        raise UsageError(
            f"'{shown}' is not a PostgreSQL URL",
            "give a URL like postgresql://user@host:5432/dbname",
        )
    return urlunsplit(("postgresql", *parts[1:]))


def sqlalchemy_url(url: str) -> str:
    """Return `url` in SQLAlchemy form with the psycopg (3) driver."""
    return "postgresql+psycopg" + libpq_url(url)[len("postgresql") :]


def with_database(url: str, dbname: str) -> str:
    """Same server, other database."""
    parts = split(libpq_url(url))
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(//[^:/@]+):[^@]*@", r"\1:***@", url)


def connect(url: str, *, autocommit: bool = False, **kwargs) -> psycopg.Connection:
    """psycopg.connect with one-line, actionable errors instead of tracebacks."""
    conninfo = libpq_url(url)
    try:
        return psycopg.connect(conninfo, autocommit=autocommit, connect_timeout=10, **kwargs)
    except psycopg.OperationalError as exc:
        raise DatabaseError(
            f"cannot connect to {redact(url)}: {describe_connect_error(exc)}",
            "check the host, port, user, password and database name in the URL",
        ) from exc
    except psycopg.ProgrammingError as exc:
        raise UsageError(f"invalid connection URL {redact(url)}: {exc}", "fix the URL") from exc


def describe_connect_error(exc: Exception) -> str:
    """The first line of a libpq error, without libpq's prefixes."""
    first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
    reason = first.rsplit("failed: ", 1)[-1]
    return re.sub(r"^(FATAL|ERROR):\s+", "", reason)
