"""The target database: the user's own, whose schema a migration is for.

It is only ever read. Connections are opened read-only by default
(`default_transaction_read_only`) with a statement timeout, and nothing in
migagent writes through them.
"""

from __future__ import annotations

import configparser
import os
from pathlib import Path

import psycopg

from migagent.errors import UsageError
from migagent.tools import pgurl

URL_ENVS = ("MIGAGENT_DATABASE_URL", "DATABASE_URL")
ALEMBIC_PLACEHOLDER = "driver://user:pass@localhost/dbname"
DEFAULT_TIMEOUT_MS = 30_000


def resolve_target_url(explicit: str | None = None, cwd: Path | None = None) -> str | None:
    """`--db`, else MIGAGENT_DATABASE_URL, else DATABASE_URL, else alembic.ini's
    `sqlalchemy.url` in the current directory; None when none is set."""
    if explicit:
        return pgurl.libpq_url(explicit)
    for env in URL_ENVS:
        if os.environ.get(env):
            return pgurl.libpq_url(os.environ[env])
    url = alembic_ini_url((cwd or Path.cwd()) / "alembic.ini")
    return pgurl.libpq_url(url) if url else None


def alembic_ini_url(ini: Path) -> str | None:
    """`sqlalchemy.url` from an alembic.ini, ignoring Alembic's placeholder."""
    if not ini.is_file():
        return None
    parser = configparser.ConfigParser(defaults={"here": str(ini.parent.resolve())})
    try:
        parser.read(ini)
        url = parser.get("alembic", "sqlalchemy.url", fallback=None)
    except configparser.Error as exc:
        raise UsageError(f"cannot read {ini}: {exc}", "fix the alembic.ini syntax") from None
    if not url or url.strip() == ALEMBIC_PLACEHOLDER:
        return None
    return url.strip()


def connect_readonly(url: str, *, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> psycopg.Connection:
    """A connection on which every transaction is read-only and time-limited."""
    return pgurl.connect(
        url,
        options=(
            f"-c default_transaction_read_only=on -c statement_timeout={int(timeout_ms)} "
            "-c lock_timeout=2000 -c idle_in_transaction_session_timeout=60000"
        ),
    )
