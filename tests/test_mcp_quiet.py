"""`migagent mcp` keeps stderr quiet: an MCP host shows the server's stderr as its log.

The real server runs as a subprocess, spoken to with the MCP SDK's own client;
a tool that fails (no database configured) is the case the SDK logs at INFO.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import anyio
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

pytestmark = pytest.mark.slow  # starts the MCP server process (~6 s)

MIGAGENT = str(Path(sys.executable).parent / "migagent")


def session_stderr(*args: str, cwd: Path) -> tuple[bool, str]:
    """Initialize, list tools, call one tool that fails; (the tool failed, server stderr)."""
    env = {
        "MIGAGENT_DATABASE_URL": "",
        "DATABASE_URL": "",
        **{k: v for k, v in os.environ.items() if k.startswith("MIGAGENT_HOME")},
    }
    params = StdioServerParameters(command=MIGAGENT, args=["mcp", *args], env=env, cwd=cwd)
    failed = False

    async def talk(errlog) -> None:
        nonlocal failed
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            assert (await session.list_tools()).tools
            result = await session.call_tool("introspect_schema", {})
            failed = result.is_error

    with tempfile.TemporaryFile("w+") as errlog:
        anyio.run(talk, errlog)
        errlog.seek(0)
        return failed, errlog.read()


def test_stderr_stays_empty_by_default(tmp_path: Path) -> None:
    failed, stderr = session_stderr(cwd=tmp_path)
    assert failed  # no database: the tool answers with an error the client shows
    assert stderr == ""


def test_verbose_logs_the_failed_tool_call(tmp_path: Path) -> None:
    failed, stderr = session_stderr("--verbose", cwd=tmp_path)
    assert failed
    assert "introspect_schema" in stderr and "INFO" in stderr


def test_log_level_info_is_the_same_as_verbose(tmp_path: Path) -> None:
    _, stderr = session_stderr("--log-level", "info", cwd=tmp_path)
    assert "introspect_schema" in stderr
