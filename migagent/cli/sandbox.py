"""`migagent sandbox status|stop`: see and stop the server migrations run on.

The embedded server starts on demand and stops when the last migagent process
using it exits. A process that is killed never says it is done, so every run
prunes dead processes from the server's handles file (the next run's exit then
stops the server) and drops the scratch databases of dead processes; `stop`
ends the server now, `status` shows what is there without starting anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from migagent.cli.app import app, out
from migagent.cli.group import ReadableCommand, ReadableGroup
from migagent.errors import DatabaseError, UsageError

if TYPE_CHECKING:
    from migagent.tools.sandbox import Sandbox

sandbox_app = typer.Typer(
    cls=ReadableGroup,
    help="The sandbox server: status (without starting it) and stop.",
    no_args_is_help=True,
)
app.add_typer(sandbox_app, name="sandbox")

_URL_HELP = "A server given by URL instead of the embedded one."


@sandbox_app.command("status", cls=ReadableCommand)
def status_command(
    sandbox_url: str | None = typer.Option(
        None, "--sandbox-url", metavar="URL", envvar="MIGAGENT_SANDBOX_URL", help=_URL_HELP
    ),
) -> None:
    """Show the sandbox server, its users and its databases; drop orphaned scratch databases."""
    from migagent.tools import pgurl
    from migagent.tools.sandbox import Sandbox, embedded_state

    if sandbox_url:
        box = Sandbox.open(sandbox_url)  # opening sweeps orphans
        out.print(f"sandbox server: {pgurl.redact(box.url)} (PostgreSQL {box.version // 10000})")
        _databases(box, swept=None)
        return
    state = embedded_state()
    if state.server_pid is None or state.url is None:
        where = state.data_dir if state.initialised else f"{state.data_dir} (not created yet)"
        out.print(f"embedded server: not running; data in {where}")
        return
    out.print(f"embedded server: running (pid {state.server_pid}); data in {state.data_dir}")
    users = ", ".join(map(str, state.handles)) or "none"
    out.print(f"  used by migagent processes: {users}")
    box = Sandbox(url=state.url, embedded=True)  # no handle taken: status never stops it
    try:
        swept = box._sweep_orphans()
    except DatabaseError as exc:
        out.print(f"  cannot list databases: {exc}")
        return
    _databases(box, swept=swept)


def _databases(box: Sandbox, *, swept: list[str] | None) -> None:
    from migagent.tools.sandbox import TEMPLATE_PREFIX

    scratch = box.scratch_databases()
    line = f"  scratch databases: {len(scratch)}"
    if swept:
        line += f" ({len(swept)} orphaned one(s) of dead processes dropped)"
    out.print(line)
    with box.admin() as conn:
        row = conn.execute(
            "SELECT count(*), coalesce(sum(pg_database_size(datname)), 0) FROM pg_database"
            " WHERE datname LIKE %s",
            (TEMPLATE_PREFIX.replace("_", r"\_") + "%",),
        ).fetchone()
    count, size = row if row is not None else (0, 0)  # an aggregate always has its row
    out.print(f"  templates: {count} ({int(size) // 1_000_000} MB)")


@sandbox_app.command("stop", cls=ReadableCommand)
def stop_command(
    force: bool = typer.Option(
        False, "--force", help="Stop even while other migagent processes use it."
    ),
    sandbox_url: str | None = typer.Option(
        None, "--sandbox-url", metavar="URL", envvar="MIGAGENT_SANDBOX_URL", help=_URL_HELP
    ),
) -> None:
    """Stop the embedded server (it starts again on the next command that needs it)."""
    from migagent.tools.sandbox import stop_embedded

    if sandbox_url:
        raise UsageError(
            "migagent only stops the embedded server, not a server named by --sandbox-url",
            "unset MIGAGENT_SANDBOX_URL to stop the embedded one",
        )
    pid = stop_embedded(force=force)
    out.print(
        f"stopped the embedded server (pid {pid})" if pid else "the embedded server is not running"
    )
