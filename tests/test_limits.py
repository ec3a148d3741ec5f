"""Runs that end and clean up (issue 18): every fault here once hung, leaked or
printed a traceback.

Claude: a server that never answers, a run that never ends, a response that is
not the API's. Processes: a SIGKILLed run's scratch databases (embedded and
`--sandbox-url`), the embedded server and its handles file, eval workers. Files:
a revision and its spec as a pair, a project with two heads. Input: malformed
URLs, binary `--desired`, Ctrl-C during startup, quoted identifiers. All on real
servers, the real SDK over HTTP and real subprocesses.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from fake_anthropic import FakeAnthropic, garbage, hang, reply, stall, text, tool_use
from test_claude import GOOD, REQUEST, SCHEMA, finish

from migagent.agent.claude import (
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_TIME_LIMIT,
    ClaudeAPIError,
    ClaudeDraftError,
    ClaudeSettings,
    draft_with_claude,
)
from migagent.agent.errors import UnderstandingError
from migagent.agent.offline import plan_request
from migagent.agent.plan import Facts, RenameColumn
from migagent.errors import UsageError
from migagent.files import write_all
from migagent.tools import pgurl
from migagent.tools.introspect import snapshot
from migagent.tools.sandbox import (
    HANDLES_FILE,
    SCRATCH_PREFIX,
    Sandbox,
    embedded_data_dir,
    scratch_owner,
)

# slow: about 145 s on 2 cores: CLI subprocesses and wall-clock limits against a fake API
pytestmark = pytest.mark.slow

PG15 = os.environ.get("MIGAGENT_TEST_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout=300):
    """`python -m migagent ARGS` as a user runs it (no ANTHROPIC_* from this shell)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "migagent", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def one_line_error(proc: subprocess.CompletedProcess, code: int = 2) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def settings_for(fake: FakeAnthropic, **overrides) -> ClaudeSettings:
    values = {"api_key": "test-key", "base_url": fake.url, "max_retries": 4, "max_turns": 20}
    return ClaudeSettings(**{**values, **overrides})


@pytest.fixture
def toolbox(sandbox, make_db):
    from migagent.agent.toolbox import Toolbox

    return Toolbox.for_target(make_db(SCHEMA).url, sandbox=sandbox)


# ------------------------------------------------------------------ Claude: timeouts
def test_defaults_are_sane_and_long_responses_stream() -> None:
    settings = ClaudeSettings.from_env({})
    assert settings.request_timeout == DEFAULT_REQUEST_TIMEOUT == 60
    assert settings.time_limit == DEFAULT_TIME_LIMIT == 900
    assert settings.stream  # 16k tokens may take longer than 60 s to arrive in one piece
    assert not ClaudeSettings(max_tokens=1000).stream
    env = {"MIGAGENT_TIME_LIMIT": "10m", "MIGAGENT_REQUEST_TIMEOUT": "30"}
    assert (
        ClaudeSettings.from_env(env).time_limit,
        ClaudeSettings.from_env(env).request_timeout,
    ) == (600, 30)
    with pytest.raises(UsageError, match="MIGAGENT_TIME_LIMIT"):
        ClaudeSettings.from_env({"MIGAGENT_TIME_LIMIT": "soon"})


def test_a_server_that_never_answers_is_tried_twice_then_one_line(toolbox, tmp_path) -> None:
    with FakeAnthropic([hang(), hang(), hang()]) as fake:
        started = time.monotonic()
        with pytest.raises(
            ClaudeAPIError, match=r"did not answer within 0.5 s \(2 attempts\)"
        ) as caught:
            draft_with_claude(
                REQUEST,
                toolbox,
                settings=settings_for(fake, request_timeout=0.5),
                project_dir=tmp_path,
            )
        elapsed = time.monotonic() - started
    assert len(fake.model_calls) == 2  # not 1 + max_retries (4)
    assert elapsed < 15, elapsed
    assert caught.value.exit_code == 2 and "\n" not in str(caught.value)


def test_a_stream_that_goes_quiet_is_one_line(toolbox, tmp_path) -> None:
    settings = {"request_timeout": 0.5}
    with (
        FakeAnthropic([stall()]) as fake,
        pytest.raises(ClaudeAPIError, match=r"stopped sending for 0.5 s") as caught,
    ):
        draft_with_claude(
            REQUEST, toolbox, settings=settings_for(fake, **settings), project_dir=tmp_path
        )
    assert caught.value.exit_code == 2 and "\n" not in str(caught.value)


def test_the_whole_draft_has_a_time_limit(toolbox, tmp_path) -> None:
    # the first turn works, the second never answers: the time limit ends the run,
    # long before the per-request timeout (30 s) and its retries would
    script = [reply(tool_use("introspect_schema", {})), hang(), hang()]
    with FakeAnthropic(script) as fake:
        started = time.monotonic()
        with pytest.raises(ClaudeDraftError, match="within the time limit of 2 s") as caught:
            draft_with_claude(
                REQUEST,
                toolbox,
                settings=settings_for(fake, request_timeout=30, time_limit=2),
                project_dir=tmp_path,
            )
        elapsed = time.monotonic() - started
    assert elapsed < 12, elapsed
    assert caught.value.run.status == "time_limit"
    assert caught.value.exit_code == 1
    assert "--time-limit" in str(caught.value) and "nothing was written" in str(caught.value)


def test_large_max_tokens_streams_instead_of_being_refused(toolbox, tmp_path) -> None:
    # the SDK refuses a non-streamed request this long unless given a long timeout
    with FakeAnthropic(finish()) as fake:
        draft = draft_with_claude(
            REQUEST, toolbox, settings=settings_for(fake, max_tokens=64_000), project_dir=tmp_path
        )
    fake.assert_done()
    assert draft.verified and draft.revision_source == GOOD
    assert all(r.body.get("stream") is True for r in fake.model_calls)
    assert draft.spec.meta.usage.input_tokens == 200  # usage read from the event stream


def test_small_max_tokens_does_not_stream(toolbox, tmp_path) -> None:
    with FakeAnthropic(finish()) as fake:
        draft = draft_with_claude(
            REQUEST, toolbox, settings=settings_for(fake, max_tokens=1000), project_dir=tmp_path
        )
    assert draft.verified
    assert all("stream" not in r.body or r.body["stream"] is False for r in fake.model_calls)


# ---------------------------------------------------------- Claude: malformed responses
GARBAGE = {
    "html": garbage(b"<html>502 Bad Gateway</html>", "text/html"),
    "not-json": garbage(b"{'half': "),
    "empty": garbage(b""),
    "other-json": garbage(b'{"status": "ok"}'),
    "bad-events": garbage(b"event: message_start\ndata: {nope\n\n", "text/event-stream"),
    "no-events": garbage(b"", "text/event-stream"),
}


@pytest.mark.parametrize("max_tokens", [1000, 16_000], ids=["json", "stream"])
@pytest.mark.parametrize("kind", list(GARBAGE))
def test_a_malformed_response_is_one_line(toolbox, tmp_path, kind, max_tokens) -> None:
    settings = {"max_tokens": max_tokens}
    with (
        FakeAnthropic([GARBAGE[kind]]) as fake,
        pytest.raises(ClaudeAPIError, match="malformed response") as caught,
    ):
        draft_with_claude(
            REQUEST, toolbox, settings=settings_for(fake, **settings), project_dir=tmp_path
        )
    assert len(fake.model_calls) == 1  # not retried: the same server says the same thing
    assert caught.value.exit_code == 2 and "\n" not in str(caught.value)


def _claude_cli(sandbox, target_url: str, fake: FakeAnthropic, cwd: Path, *extra: str, env=None):
    environ = {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": fake.url, **(env or {})}
    if not sandbox.embedded:
        environ["MIGAGENT_SANDBOX_URL"] = sandbox.url
    args = ["draft", REQUEST, "--backend", "claude", "--db", target_url, "--out", "versions"]
    return cli(*args, "--no-estimate", *extra, cwd=cwd, env=environ, timeout=120)


def test_cli_hanging_api_is_one_line_exit_2(sandbox, make_db, tmp_path) -> None:
    target = make_db(SCHEMA)
    with FakeAnthropic([hang(), hang()]) as fake:
        started = time.monotonic()
        proc = _claude_cli(
            sandbox, target.url, fake, tmp_path, env={"MIGAGENT_REQUEST_TIMEOUT": "1"}
        )
    assert "did not answer within 1 s" in one_line_error(proc)
    assert time.monotonic() - started < 60
    assert not list(tmp_path.rglob("*.py"))


def test_cli_time_limit_flag(sandbox, make_db, tmp_path) -> None:
    target = make_db(SCHEMA)
    with FakeAnthropic(
        [reply(text("thinking"), tool_use("introspect_schema", {})), hang()]
    ) as fake:
        proc = _claude_cli(sandbox, target.url, fake, tmp_path, "--time-limit", "3")
    assert "time limit of 3 s" in one_line_error(proc, code=1)
    bad = _claude_cli(sandbox, target.url, fake, tmp_path, "--time-limit", "whenever")
    assert "--time-limit" in one_line_error(bad)


def test_cli_garbage_response_is_one_line_exit_2(sandbox, make_db, tmp_path) -> None:
    target = make_db(SCHEMA)
    with FakeAnthropic([garbage(b"this is not json")]) as fake:
        proc = _claude_cli(sandbox, target.url, fake, tmp_path)
    assert "malformed response" in one_line_error(proc)


# --------------------------------------------------------------- scratch databases
def test_scratch_names_carry_pid_and_host(sandbox) -> None:
    name = sandbox.create_database()
    try:
        assert scratch_owner(name) is not None and scratch_owner(name)[0] == os.getpid()
    finally:
        sandbox.drop_database(name)
    assert scratch_owner("migagent_s_notapid") is None
    assert scratch_owner("migagent_s_12_3_abcdef") == (12, None)  # legacy: no host
    assert scratch_owner("migagent_s_12_habcdef_3_abcdef") == (12, "abcdef")
    assert scratch_owner("migagent_s_١٢_3_x") is None  # unicode digits are not a pid
    assert scratch_owner("other_db") is None


def test_a_database_named_like_scratch_but_without_a_pid_breaks_nothing(sandbox, tmp_path) -> None:
    with sandbox.admin() as conn:
        conn.execute('CREATE DATABASE "migagent_s_notapid"')
    try:
        assert "migagent_s_notapid" not in sandbox._sweep_orphans()
        args = ["sandbox", "status"] + ([] if sandbox.embedded else ["--sandbox-url", sandbox.url])
        proc = cli(*args, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr
    finally:
        with sandbox.admin() as conn:
            conn.execute('DROP DATABASE IF EXISTS "migagent_s_notapid"')


SLOW_REVISION = """
from alembic import op

revision = "slow1"
down_revision = None


def upgrade():
    op.execute("SELECT pg_sleep(120)")


def downgrade():
    pass
"""


def _start_slow_verify(tmp_path: Path, url: str | None, env: dict[str, str] | None = None):
    """A `migagent verify` subprocess that sits in pg_sleep in its scratch database."""
    (tmp_path / "slow.py").write_text(SLOW_REVISION)
    (tmp_path / "schema.sql").write_text("CREATE TABLE t (id int);\n")
    args = ["verify", "slow.py", "--schema-file", "schema.sql"]
    args += ["--sandbox-url", url] if url else []
    full = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    full.pop("MIGAGENT_SANDBOX_URL", None)
    full.update(env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "migagent", *args],
        cwd=tmp_path,
        env=full,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _scratch_of(admin_url: str, pid: int, *, sleeping: bool) -> list[str]:
    pattern = f"{SCRATCH_PREFIX}{pid}\\_%"
    query = (
        "SELECT DISTINCT datname FROM pg_stat_activity WHERE datname LIKE %s AND query LIKE '%%pg_sleep%%'"
        if sleeping
        else "SELECT datname FROM pg_database WHERE datname LIKE %s"
    )
    with pgurl.connect(admin_url, autocommit=True) as conn:
        return [r[0] for r in conn.execute(query, (pattern,)).fetchall()]


def _wait_sleeping(proc: subprocess.Popen, admin_url: str, timeout: float = 90) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"verify exited early ({proc.returncode})"
        found = _scratch_of(admin_url, proc.pid, sleeping=True)
        if found:
            return found
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("verify never reached its slow upgrade")


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def _handles(pgdata: Path) -> list[int]:
    try:
        return json.loads((pgdata / HANDLES_FILE).read_text())
    except FileNotFoundError:
        return []


def test_sigkill_of_verify_on_the_embedded_server_leaves_no_scratch_database(tmp_path) -> None:
    box = Sandbox.open()
    proc = _start_slow_verify(tmp_path, None)
    try:
        left = _wait_sleeping(proc, box.url)
    finally:
        _kill(proc)
    assert _scratch_of(box.url, proc.pid, sleeping=False) == left  # killed: nothing cleaned up
    assert proc.pid in _handles(embedded_data_dir())
    # the next run opens the sandbox: it drops the dead run's databases and forgets its pid
    status = cli("sandbox", "status", cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert _scratch_of(box.url, proc.pid, sleeping=False) == []
    assert proc.pid not in _handles(embedded_data_dir())


def test_sigkill_of_verify_on_a_sandbox_url_server_leaves_no_scratch_database(tmp_path) -> None:
    try:
        pgurl.connect(PG15).close()
    except Exception:
        pytest.skip(f"no server at {PG15}")
    proc = _start_slow_verify(tmp_path, PG15)
    try:
        left = _wait_sleeping(proc, PG15)
    finally:
        _kill(proc)
    assert _scratch_of(PG15, proc.pid, sleeping=False) == left
    # today only the embedded server was swept: a --sandbox-url server kept them forever
    status = cli("sandbox", "status", "--sandbox-url", PG15, cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert _scratch_of(PG15, proc.pid, sleeping=False) == []


def test_sigterm_of_verify_cleans_up_before_it_exits(tmp_path) -> None:
    try:
        pgurl.connect(PG15).close()
    except Exception:
        pytest.skip(f"no server at {PG15}")
    proc = _start_slow_verify(tmp_path, PG15)
    try:
        left = _wait_sleeping(proc, PG15)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 143
    finally:
        proc.kill()
    assert left and _scratch_of(PG15, proc.pid, sleeping=False) == []  # no sweep needed


def _embedded_running(env: dict[str, str], cwd: Path) -> bool:
    proc = cli("sandbox", "status", cwd=cwd, env=env)
    assert proc.returncode == 0, proc.stderr
    return "embedded server: running" in proc.stdout


def test_a_killed_run_no_longer_keeps_the_embedded_server_alive_forever(tmp_path) -> None:
    home = tmp_path / "home"
    env = {"MIGAGENT_HOME": str(home)}  # a server of its own: stopping it disturbs no one
    pgdata = home / "pg18"
    proc = _start_slow_verify(tmp_path, None, env)
    try:
        _wait_sleeping(proc, _admin_url_of(pgdata))
    finally:
        _kill(proc)
    assert proc.pid in _handles(pgdata)
    assert _embedded_running(env, tmp_path)
    assert proc.pid not in _handles(pgdata)  # status pruned the dead pid
    # the next run is the last live user again, so its exit stops the server
    run = cli("introspect", "--schema-file", "schema.sql", cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    assert not _embedded_running(env, tmp_path)

    # or stop it explicitly after a kill
    proc = _start_slow_verify(tmp_path, None, env)
    try:
        _wait_sleeping(proc, _admin_url_of(pgdata))
    finally:
        _kill(proc)
    stop = cli("sandbox", "stop", cwd=tmp_path, env=env)
    assert stop.returncode == 0 and "stopped the embedded server" in stop.stdout, stop.stderr
    assert not _embedded_running(env, tmp_path)
    assert "not running" in cli("sandbox", "stop", cwd=tmp_path, env=env).stdout
    url = cli("sandbox", "stop", "--sandbox-url", PG15, cwd=tmp_path, env=env)
    assert "only stops the embedded server" in one_line_error(url)


def _admin_url_of(pgdata: Path, timeout: float = 60) -> str:
    """The URL of the embedded server of `pgdata`, once its postmaster.pid says ready."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            lines = (pgdata / "postmaster.pid").read_text().splitlines()
            if len(lines) >= 8 and lines[7].strip() == "ready":
                return f"postgresql://postgres@/postgres?host={lines[4].strip()}&port={lines[3].strip()}"
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"no embedded server came up in {pgdata}")


# ----------------------------------------------------------------------- eval workers
def test_eval_workers_die_with_their_parent(sandbox, tmp_path) -> None:
    args = ["eval", "--workers", "2"]
    args += [] if sandbox.embedded else ["--sandbox-url", sandbox.url]
    proc = subprocess.Popen(
        [sys.executable, "-m", "migagent", *args],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 60
    workers: list[psutil.Process] = []
    while time.monotonic() < deadline and len(workers) < 2:
        assert proc.poll() is None, "eval ended before its workers started"
        workers = [c for c in parent.children() if "python" in c.name().lower()]
        time.sleep(0.2)
    assert len(workers) >= 2, workers
    _kill(proc)
    _, alive = psutil.wait_procs(workers, timeout=15)
    alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    for p in alive:
        p.kill()
    assert not alive, f"workers outlived their parent: {[p.pid for p in alive]}"


# -------------------------------------------------------------------------- files
def test_write_all_writes_both_or_neither(tmp_path) -> None:
    (tmp_path / "docs").write_text("a file where the spec folder would go")
    with pytest.raises(UsageError, match="nothing was written"):
        write_all([(tmp_path / "rev.py", "rev"), (tmp_path / "docs" / "m" / "rev.md", "spec")])
    assert not (tmp_path / "rev.py").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["docs"]  # no temporary files left

    # a failed second move puts the first file's old content back
    (tmp_path / "rev.py").write_text("old")
    (tmp_path / "spec.md").mkdir()  # os.replace onto a directory fails
    with pytest.raises(UsageError):
        write_all([(tmp_path / "rev.py", "new"), (tmp_path / "spec.md", "spec")])
    assert (tmp_path / "rev.py").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs", "rev.py", "spec.md"]


def test_draft_writes_no_revision_when_its_spec_cannot_be_written(sandbox, tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "docs").write_text("in the way")  # the spec goes to out/docs/migrations
    args = ["draft", "--demo", "add a nullable summary text column to sections", "--backend"]
    args += ["offline", "--no-estimate", "--out", str(out)]
    args += [] if sandbox.embedded else ["--sandbox-url", sandbox.url]
    proc = cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "cannot write" in proc.stderr and "nothing was written" in proc.stderr
    assert not list(out.rglob("*.py"))


def _two_head_project(root: Path) -> None:
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    (root / "migrations" / "script.py.mako").write_text("")
    for rev in ("aaaa00000001", "bbbb00000002"):
        (versions / f"{rev}.py").write_text(
            f'revision = "{rev}"\ndown_revision = None\nbranch_labels = None\ndepends_on = None\n\n'
            "def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"
        )


def test_draft_in_a_project_with_two_heads_refuses_or_takes_head(sandbox, tmp_path) -> None:
    _two_head_project(tmp_path)
    base = ["draft", "--demo", "add a nullable summary text column to sections", "--backend"]
    base += ["offline", "--no-estimate"]
    base += [] if sandbox.embedded else ["--sandbox-url", sandbox.url]
    proc = cli(*base, cwd=tmp_path)
    line = one_line_error(proc)
    assert "aaaa00000001" in line and "bbbb00000002" in line and "alembic merge heads" in line
    versions = tmp_path / "migrations" / "versions"
    assert len(list(versions.glob("*.py"))) == 2  # nothing written

    wrong = cli(*base, "--head", "cccc", cwd=tmp_path)
    assert "not one of the project's heads" in one_line_error(wrong)

    ok = cli(*base, "--head", "bbbb", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    (new,) = [p for p in versions.glob("*.py") if p.stem not in ("aaaa00000001", "bbbb00000002")]
    assert "down_revision = 'bbbb00000002'" in new.read_text().replace('"', "'")


def test_a_database_at_two_heads_is_refused_not_made_a_new_root(sandbox, make_db) -> None:
    from migagent.agent.pipeline import _head

    db = make_db(
        "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);"
        "INSERT INTO alembic_version VALUES ('aaaa00000001'), ('bbbb00000002');"
    )
    with db.connect() as conn:
        snap = snapshot(conn)
    with pytest.raises(UsageError, match=r"2 Alembic heads .*alembic merge heads"):
        _head(snap)


# -------------------------------------------------------------------------- input
BAD_URL = "postgresql://u@[::1/x"


@pytest.mark.parametrize(
    "args",
    [
        ["introspect", "--db", BAD_URL],
        ["introspect", "--schema-file", "s.sql", "--sandbox-url", BAD_URL],
        ["verify", "rev.py", "--db", BAD_URL],
        ["lint", "rev.py", "--db", BAD_URL],
        ["estimate", "rev.py", "--db", BAD_URL],
        ["draft", "add x", "--db", BAD_URL, "--backend", "offline"],
        ["check", "--sandbox-url", BAD_URL],
        ["eval", "--sandbox-url", BAD_URL, "--case", "accounts_add_is_verified"],
        ["sandbox", "status", "--sandbox-url", BAD_URL],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_a_malformed_ipv6_url_is_one_line_in_every_command(tmp_path, args) -> None:
    (tmp_path / "s.sql").write_text("CREATE TABLE t (id int);\n")
    (tmp_path / "rev.py").write_text(SLOW_REVISION)
    (tmp_path / "m" / "versions").mkdir(parents=True)
    (tmp_path / "m" / "versions" / "slow1.py").write_text(SLOW_REVISION)
    (tmp_path / "alembic.ini").write_text(
        f"[alembic]\nscript_location = m\nsqlalchemy.url = {BAD_URL}\n"
    )
    proc = cli(*args, cwd=tmp_path, env={"MIGAGENT_DATABASE_URL": BAD_URL})
    line = one_line_error(proc)
    assert "IPv6" in line or "invalid connection URL" in line, line


@pytest.mark.parametrize(
    "content",
    [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "CREATE TABLE é (id int);".encode("latin-1")],
)
def test_a_binary_or_non_utf8_desired_file_is_one_line(sandbox, tmp_path, content) -> None:
    (tmp_path / "desired.sql").write_bytes(content)
    args = ["draft", "sync", "--demo", "--desired", "desired.sql", "--backend", "offline"]
    args += [] if sandbox.embedded else ["--sandbox-url", sandbox.url]
    line = one_line_error(cli(*args, cwd=tmp_path))
    assert "--desired" in line and ("binary" in line or "UTF-8" in line)


@pytest.mark.parametrize("delay", [0.1, 0.2, 0.35, 0.6, 1.0])
def test_ctrl_c_in_the_first_second_is_one_line_exit_130(tmp_path, delay) -> None:
    (tmp_path / "s.sql").write_text("CREATE TABLE t (id int);\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "migagent", "introspect", "--schema-file", "s.sql"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("finished before the signal")
    if "init_import_site" in stderr or proc.returncode == -signal.SIGINT:
        pytest.skip("the signal came during Python's own startup, before any migagent code")
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr, stderr
    assert stderr.strip().splitlines()[-1:] == ["interrupted"], stderr


# --------------------------------------------------------- quoted identifiers (offline)
QUOTED_SCHEMA = """
CREATE TABLE "user" (id bigserial PRIMARY KEY, "from" text, "Display" text);
CREATE TABLE users (id bigserial PRIMARY KEY, email text);
"""


@pytest.fixture
def quoted_facts(make_db) -> Facts:
    db = make_db(QUOTED_SCHEMA)
    with db.connect() as conn:
        snap = snapshot(conn)
    return Facts(snapshot=snap, server_version=180000)


def test_quoted_identifiers_are_taken_literally(quoted_facts) -> None:
    plan = plan_request('rename column "from" to "to" on "user"', quoted_facts)
    (op,) = plan.operations
    assert isinstance(op, RenameColumn)
    assert (op.table, op.column, op.new_name) == ("public.user", "from", "to")

    plan = plan_request('rename "user"."Display" to display_name', quoted_facts)
    assert (plan.operations[0].column, plan.operations[0].new_name) == ("Display", "display_name")

    plan = plan_request('add a nullable column "Nick Name" text to users', quoted_facts)
    assert plan.operations[0].column.name == "Nick Name"


@pytest.mark.parametrize(
    ("request_", "match"),
    [
        ('add column "x; drop table users; --" text to users', "contains ';'"),
        ('rename column "from" to "a.b" on "user"', "contains '.'"),
        ('add column "" text to users', "is empty"),
        ('add column "x text to users', "unbalanced double quote"),
        ("add column first-name text to users", "first-name is not a valid identifier"),
        ('rename column "display" to shown on "user"', "no column|found no"),  # case is kept
    ],
)
def test_identifiers_that_need_quoting_or_are_not_valid_are_refused(
    quoted_facts, request_, match
) -> None:
    with pytest.raises(UnderstandingError, match=match):
        plan_request(request_, quoted_facts)


def test_cli_quoted_rename_is_exact(sandbox, tmp_path) -> None:
    (tmp_path / "s.sql").write_text(QUOTED_SCHEMA)
    args = ["draft", 'rename column "from" to "to" on "user"', "--schema-file", "s.sql"]
    args += ["--backend", "offline", "--no-estimate", "--dry-run"]
    args += [] if sandbox.embedded else ["--sandbox-url", sandbox.url]
    proc = cli(*args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert 'op.alter_column("user", "from", new_column_name="to")' in proc.stdout
    assert "on" not in [w.strip('"') for w in proc.stdout.split("new_column_name=")[1:2]]
    injected = cli(
        "draft", 'add column "x; drop table users; --" text to users', "--schema-file", "s.sql",
        "--backend", "offline", "--dry-run", *([] if sandbox.embedded else ["--sandbox-url", sandbox.url]),
        cwd=tmp_path,
    )  # fmt: skip
    assert "contains ';'" in one_line_error(injected, code=1)


def test_readme_documents_the_limits() -> None:
    readme = (ROOT / "README.md").read_text()
    for needle in ("migagent sandbox stop", "--time-limit", "MIGAGENT_REQUEST_TIMEOUT"):
        assert needle in readme, needle
