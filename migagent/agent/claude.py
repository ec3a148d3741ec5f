"""The Claude backend: Claude drafts, verifies and repairs the migration with migagent's tools.

Built on the Anthropic SDK's tool runner (`client.beta.messages.tool_runner`
with `thread=False`, so every request carries the whole conversation). The
tools are the `Toolbox` methods (`claude_tools`); the final answer is a call to
`submit_draft` with the revision source and a `SpecDraft` (its JSON Schema in
the SDK's structured-output form), which the toolbox accepts only for a
source that passed `verify_revision` and has no lint errors, so a failed
verification or a lint error goes back to the model to repair.

The system prompt (`prompts/system.md`) and the project's conventions are sent
as system blocks with `cache_control`, after the tool definitions, so the
whole fixed prefix is cached across turns and drafts; the top-level
`cache_control` also caches the growing conversation from turn to turn.

Every way a run can end is an outcome (`ClaudeRun.status`): `submitted`, or
`refused`, `max_tokens`, `context_exceeded`, `turn_limit`, `token_budget`,
`no_submission`; all but `submitted` raise `ClaudeDraftError` (exit 1) from
`draft_with_claude`, and nothing is written. API failures (rate limits,
overload, 5xx) are retried by the SDK (`max_retries`) and then become a
one-line `ClaudeAPIError` (exit 2), as does a response that is not what the
API sends (`malformed`).

Runs end: every request has an idle timeout (`request_timeout`, 60 s without a
byte; a hanging server is tried twice, then reported), responses stream when
`max_tokens` is too large to wait for in one piece, and the whole draft has a
wall-clock limit (`time_limit`, 15 min; `--time-limit`, `MIGAGENT_TIME_LIMIT`)
that ends it as `time_limit` (exit 1) however it is spent.

After a submission migagent verifies and lints the submitted revision again
itself (`finalize`) and records the result, with token usage and turns, in
the spec's `SpecMeta`; a draft is only ever called verified when that second
verification passed.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import os
import re
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from migagent.agent.toolbox import Submission, Toolbox, ToolboxError
from migagent.errors import MigagentError, UsageError, first_line
from migagent.prompts import PROMPTS_VERSION, load_prompt, template
from migagent.spec import MigrationSpec, SpecMeta, TokenUsage

if TYPE_CHECKING:  # the SDK is imported when a run starts (the CLI starts without it)
    from anthropic.lib.streaming import BetaMessageStream
    from anthropic.types.beta import BetaMessage, BetaToolUseBlock, BetaUsage

API_KEY_ENV = "ANTHROPIC_API_KEY"
MODEL_ENV = "MIGAGENT_MODEL"
MAX_TOKENS_ENV = "MIGAGENT_MAX_TOKENS"
DEFAULT_MODEL = "claude-sonnet-5-5"
DEFAULT_MAX_TURNS = 40
DEFAULT_TOKEN_BUDGET = 3_000_000  # budget_tokens(), summed over turns
#: a cache read is billed at a tenth of an input token, so the budget counts it so
CACHE_READ_WEIGHT = 0.1
DEFAULT_MAX_TOKENS = 16_000  # per response: a full revision plus spec fits comfortably
DEFAULT_MAX_RETRIES = 4
TIME_LIMIT_ENV = "MIGAGENT_TIME_LIMIT"
REQUEST_TIMEOUT_ENV = "MIGAGENT_REQUEST_TIMEOUT"
DEFAULT_TIME_LIMIT = 900.0  # seconds for a whole draft: turns, tools, retries
DEFAULT_REQUEST_TIMEOUT = 60.0  # seconds without a byte from the API (it pings while streaming)
CONNECT_TIMEOUT = 10.0
TIMEOUT_ATTEMPTS = 2  # a request that times out is sent at most this often
# the SDK's own estimate of how long a non-streamed response may take (1 h per 128k tokens)
_SECONDS_PER_OUTPUT_TOKEN = 3600 / 128_000

Status = Literal[
    "submitted",
    "refused",
    "max_tokens",
    "context_exceeded",
    "turn_limit",
    "token_budget",
    "no_submission",
    "time_limit",
]


class ClaudeAPIError(MigagentError):
    """The Anthropic API could not be used (key, rate limit, overload, network): exit 2."""


class ClaudeDraftError(MigagentError):
    """Claude ran but produced no draft migagent can stand behind: exit 1, nothing written."""

    exit_code = 1

    def __init__(self, problem: str, fix: str | None, run: ClaudeRun) -> None:
        self.run = run
        super().__init__(problem, fix)


@dataclass
class ClaudeSettings:
    """How to run Claude: from `--model`, `--max-turns`, `--token-budget` and the environment."""

    model: str = DEFAULT_MODEL
    max_turns: int = DEFAULT_MAX_TURNS
    token_budget: int = DEFAULT_TOKEN_BUDGET
    max_tokens: int = DEFAULT_MAX_TOKENS
    max_retries: int = DEFAULT_MAX_RETRIES
    api_key: str | None = None
    base_url: str | None = None  # default: ANTHROPIC_BASE_URL, else the SDK's
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    time_limit: float = DEFAULT_TIME_LIMIT

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        model: str | None = None,
        max_turns: int | None = None,
        token_budget: int | None = None,
        time_limit: float | None = None,
    ) -> ClaudeSettings:
        env = os.environ if env is None else env
        max_tokens = env.get(MAX_TOKENS_ENV)
        try:
            max_tokens_value = int(max_tokens) if max_tokens else DEFAULT_MAX_TOKENS
        except ValueError:
            raise UsageError(
                f"{MAX_TOKENS_ENV}={max_tokens!r} is not a number", "set it to e.g. 16000"
            ) from None
        settings = cls(
            model=model or env.get(MODEL_ENV) or DEFAULT_MODEL,
            max_turns=max_turns or DEFAULT_MAX_TURNS,
            token_budget=token_budget or DEFAULT_TOKEN_BUDGET,
            max_tokens=max_tokens_value,
            api_key=env.get(API_KEY_ENV) or None,
            base_url=env.get("ANTHROPIC_BASE_URL") or None,
            request_timeout=parse_duration(env, REQUEST_TIMEOUT_ENV, DEFAULT_REQUEST_TIMEOUT),
            time_limit=time_limit or parse_duration(env, TIME_LIMIT_ENV, DEFAULT_TIME_LIMIT),
        )
        if settings.max_turns < 1:
            raise UsageError("--max-turns must be at least 1", "give e.g. --max-turns 40")
        if settings.token_budget < 1:
            raise UsageError("--token-budget must be positive", "give e.g. --token-budget 3000000")
        return settings

    def require_key(self) -> str:
        if not self.api_key:
            raise UsageError(
                f"the Claude backend needs an Anthropic API key and {API_KEY_ENV} is not set",
                f"export {API_KEY_ENV}=sk-ant-..., or use --backend offline",
            )
        return self.api_key

    @property
    def stream(self) -> bool:
        """Stream when a whole response may take longer than the idle timeout: a streamed
        response sends events (and pings) all along, so the timeout stays short."""
        return self.max_tokens * _SECONDS_PER_OUTPUT_TOKEN > self.request_timeout

    def client(self, deadline: float | None = None) -> Any:
        """An SDK client with an idle timeout per request, and (given `deadline`, a
        `time.monotonic()` value) no request allowed to run past the draft's time limit."""
        import anthropic
        import httpx2

        kwargs: dict[str, Any] = {
            "api_key": self.require_key(),
            "max_retries": self.max_retries,
            # explicit, so the SDK never refuses a long non-streamed request; reads are
            # idle timeouts, and `stream` keeps them short for long responses
            "timeout": httpx2.Timeout(self.request_timeout, connect=CONNECT_TIMEOUT),
            "middleware": [_Limits(self.request_timeout, deadline)],
        }
        if self.base_url:
            kwargs["base_url"] = self.base_url
        return anthropic.Anthropic(**kwargs)


def parse_duration(env: Mapping[str, str], name: str, default: float) -> float:
    """A duration from the environment: seconds, or with an s/m/h suffix."""
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    scale = {"s": 1, "m": 60, "h": 3600}.get(raw[-1], 0)
    try:
        value = float(raw[:-1] if scale else raw) * (scale or 1)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):  # also nan
        raise UsageError(f"{name}={raw!r} is not a duration", f"set it to seconds, e.g. {name}=900")
    return value


class _TimeLimitReached(Exception):
    """The draft's deadline passed before (or while) a request ran; not retried."""


class _NoAnswer(Exception):
    """A request timed out `TIMEOUT_ATTEMPTS` times; not retried further."""


class _Malformed(Exception):
    """A 200 response that is not what the Messages API sends; not retried."""


def _check_response(response: Any, stream: bool) -> None:
    """Raise `_Malformed` for a successful response the SDK would choke on (a proxy's
    error page, truncated JSON, another API), before it fails deep inside the SDK."""
    http = response.http_response
    if not http.is_success:
        return
    kind = http.headers.get("content-type", "").split(";")[0].strip().lower()
    if stream:
        if kind != "text/event-stream":
            raise _Malformed(f"{kind or 'an untyped'} body where an event stream was expected")
        return
    if kind == "text/event-stream":
        raise _Malformed("an event stream where a JSON message was expected")
    try:
        body = json.loads(http.read() or b"null")
    except (ValueError, UnicodeDecodeError):
        raise _Malformed(f"not JSON: {http.read()[:60]!r}") from None
    content = body.get("content") if isinstance(body, dict) else None
    if (
        not isinstance(body, dict)
        or body.get("type") != "message"
        or not isinstance(content, list)
        or not all(isinstance(b, dict) and isinstance(b.get("type"), str) for b in content)
    ):
        raise _Malformed(f"JSON that is not a message: {json.dumps(body)[:60]}")


class _Limits:
    """SDK middleware (runs once per HTTP attempt, inside the retry loop): cap every
    attempt's timeouts at the time left, stop at the deadline, give up on a server
    that does not answer after `TIMEOUT_ATTEMPTS` tries instead of `max_retries`, and
    reject malformed responses."""

    def __init__(self, request_timeout: float, deadline: float | None) -> None:
        self.request_timeout = request_timeout
        self.deadline = deadline

    def __call__(self, request: Any, call_next: Any) -> Any:
        import anthropic
        import httpx2

        timeout = self.request_timeout
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise _TimeLimitReached()
            timeout = min(timeout, left)
            request = request.copy(
                timeout=httpx2.Timeout(timeout, connect=min(CONNECT_TIMEOUT, timeout))
            )
        try:
            response = call_next(request)
        except anthropic.APITimeoutError:
            if self.deadline is not None and time.monotonic() >= self.deadline:
                raise _TimeLimitReached() from None
            if request.retries_taken + 1 >= TIMEOUT_ATTEMPTS:
                raise _NoAnswer() from None
            raise
        _check_response(response, bool(request.stream))
        return response


@dataclass
class ClaudeRun:
    """What one conversation did, however it ended."""

    status: Status
    model: str
    turns: int = 0
    usage: TokenUsage = field(default_factory=TokenUsage)
    stop_reason: str | None = None
    final_text: str = ""
    tool_calls: list[str] = field(default_factory=list)
    tool_errors: list[str] = field(default_factory=list)  # "tool: message" per error result
    submission: Submission | None = None


@dataclass
class ClaudeDraft:
    """A submitted draft after migagent's own re-verification."""

    revision_source: str
    spec: MigrationSpec
    proof: Any  # tools.proof.Proof of migagent's own re-proof
    run: ClaudeRun

    @property
    def verified(self) -> bool:
        return bool(self.proof.passed)

    @property
    def verification(self) -> Any:  # the VerificationReport of the re-proof
        return self.proof.verification

    @property
    def lint(self) -> Any:
        return self.proof.lint

    @property
    def filename(self) -> str:
        return self.spec.alembic.file_name


# --------------------------------------------------------------------------- prompts
def system_blocks(project_dir: Path | None = None) -> list[dict[str, Any]]:
    """The system prompt and the project's conventions; the last block carries the cache
    breakpoint, so tool definitions + system are one cached prefix."""
    conventions_path = (project_dir or Path.cwd()) / ".claude" / "conventions.md"
    try:
        conventions = conventions_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        conventions = load_prompt("init/conventions.md")
    return [
        {"type": "text", "text": load_prompt("system.md")},
        {
            "type": "text",
            "text": "# .claude/conventions.md\n\n" + conventions,
            "cache_control": {"type": "ephemeral"},
        },
    ]


def first_message(
    request: str,
    toolbox: Toolbox,
    *,
    revision_id: str | None = None,
    down_revision: str | None = None,
    message: str | None = None,
) -> str:
    """The request, where the schema comes from, and the revision file's skeleton."""
    from migagent.render.revision import new_revision_id

    snap = toolbox.snapshot
    head = down_revision or (
        snap.alembic_revisions[0] if len(snap.alembic_revisions) == 1 else None
    )
    revision = revision_id or new_revision_id()
    skeleton = template("revision.py.j2").render(
        message=message or "<message: lower case, imperative>",
        revision=revision,
        down_revision=head,
        create_date=str(dt.datetime.now().replace(microsecond=0)),
        imports=["import sqlalchemy as sa", "from alembic import op"],
        upgrade_body="    ...",
        downgrade_body="    ...",
    )
    rows = ", ".join(f"{t}={n:,}" for t, n in sorted(toolbox.rows.items()))
    lines = [
        f"Request: {request.strip()}",
        "",
        f"Schema: {toolbox.source_label}.",
        "Alembic head: "
        + (
            f"`{head}`: the revision's down_revision."
            if head
            else (
                f"several heads ({', '.join(snap.alembic_revisions)}): make down_revision a tuple of them."
                if snap.alembic_revisions and not head
                else "none (down_revision = None)."
            )
        ),
    ]
    if rows:
        lines.append(f"Production row counts given by the user (they win over estimates): {rows}.")
    if not toolbox.estimates:
        lines.append(
            "Estimates are off for this draft (--no-estimate): skip estimate_revision, and give "
            "no measured time in the spec."
        )
    lines += [
        "",
        "Write a complete revision file in this layout (keep the revision id), prove it with "
        "verify_revision and lint_revision, and finish by calling submit_draft with exactly the "
        "source that passed:",
        "",
        "```python",
        skeleton.rstrip(),
        "```",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------ run
def run_claude(
    request: str,
    toolbox: Toolbox,
    settings: ClaudeSettings,
    *,
    client: Any = None,
    project_dir: Path | None = None,
    down_revision: str | None = None,
    message: str | None = None,
) -> ClaudeRun:
    """Let Claude work on `request` with `toolbox` until it submits or the run ends otherwise.

    Never raises for how the conversation ended (see `ClaudeRun.status`); raises
    `ClaudeAPIError` when the API cannot be used.
    """
    import anthropic
    import httpx2

    from migagent.agent.claude_tools import make_tools

    deadline = time.monotonic() + settings.time_limit
    client = client or settings.client(deadline)
    tools = make_tools(toolbox)
    names = {t.name for t in tools}
    run = ClaudeRun(status="no_submission", model=settings.model)
    toolbox.request = request  # introspect_schema leads with the tables it names
    if project_dir is not None:
        toolbox.project_dir = project_dir
    runner = client.beta.messages.tool_runner(
        model=settings.model,
        max_tokens=settings.max_tokens,
        system=system_blocks(project_dir),
        tools=tools,
        messages=[
            {
                "role": "user",
                "content": first_message(
                    request, toolbox, down_revision=down_revision, message=message
                ),
            }
        ],
        thread=False,
        max_iterations=settings.max_turns,
        cache_control={"type": "ephemeral"},
        stream=settings.stream,
    )
    try:
        with warnings.catch_warnings():
            # an unknown tool is answered with an error result; the SDK also warns
            warnings.filterwarnings("ignore", message=r"Tool '.*' not found", category=UserWarning)
            for item in runner:
                reply: BetaMessage = _final_message(item) if settings.stream else item
                run.turns += 1
                _add_usage(run.usage, reply.usage)
                run.stop_reason = reply.stop_reason
                texts = [b.text for b in reply.content if b.type == "text"]
                if texts:
                    run.final_text = "\n".join(texts)
                calls = [b for b in reply.content if b.type == "tool_use"]
                run.tool_calls += [c.name for c in calls]
                if reply.stop_reason == "tool_use" and calls:
                    response = runner.generate_tool_call_response()  # cached: the runner sends it
                    _explain_unknown_tools(response, calls, names)
                    run.tool_errors += _errors(response, calls)
                    if toolbox.submission is not None:
                        run.status = "submitted"
                        run.submission = toolbox.submission
                        break
                elif reply.stop_reason == "refusal":
                    run.status = "refused"
                    break
                elif reply.stop_reason == "max_tokens":
                    run.status = "max_tokens"
                    break
                elif reply.stop_reason == "model_context_window_exceeded":
                    run.status = "context_exceeded"
                    break
                if budget_tokens(run.usage) > settings.token_budget:
                    run.status = "token_budget"
                    break
                if time.monotonic() >= deadline:
                    run.status = "time_limit"
                    break
            else:
                if run.stop_reason == "tool_use" and run.turns >= settings.max_turns:
                    run.status = "turn_limit"
    except _TimeLimitReached:
        run.status = "time_limit"
    except _Malformed as exc:
        raise ClaudeAPIError(
            f"the Anthropic API sent a malformed response ({exc})",
            "check ANTHROPIC_BASE_URL (a proxy or an error page?), or use --backend offline",
        ) from None
    except _NoAnswer:
        raise ClaudeAPIError(
            f"the Anthropic API did not answer within {settings.request_timeout:g} s "
            f"({TIMEOUT_ATTEMPTS} attempts)",
            f"check the network and ANTHROPIC_BASE_URL, raise {REQUEST_TIMEOUT_ENV}, "
            "or use --backend offline",
        ) from None
    except httpx2.TimeoutException:  # a streamed response went quiet mid-way
        if time.monotonic() < deadline:
            raise ClaudeAPIError(
                f"the Anthropic API stopped sending for {settings.request_timeout:g} s "
                "in the middle of a response",
                f"run the command again, raise {REQUEST_TIMEOUT_ENV}, or use --backend offline",
            ) from None
        run.status = "time_limit"
    except anthropic.AuthenticationError as exc:
        raise ClaudeAPIError(
            f"the Anthropic API rejected the key: {_api_message(exc)}",
            f"check {API_KEY_ENV}",
        ) from None
    except anthropic.RateLimitError as exc:
        raise ClaudeAPIError(
            f"the Anthropic API is rate limiting this key after {settings.max_retries} retries: "
            f"{_api_message(exc)}",
            "wait a minute and run the command again",
        ) from None
    except anthropic.InternalServerError as exc:
        raise ClaudeAPIError(
            f"the Anthropic API is unavailable ({exc.status_code}, {_api_message(exc)}) after "
            f"{settings.max_retries} retries",
            "try again later, or use --backend offline",
        ) from None
    except anthropic.APIStatusError as exc:
        raise ClaudeAPIError(
            f"the Anthropic API refused the request ({exc.status_code}): {_api_message(exc)}",
            f"check --model ({settings.model}) and the options, or use --backend offline",
        ) from None
    except anthropic.APITimeoutError:
        if time.monotonic() < deadline:
            raise ClaudeAPIError(
                f"the Anthropic API did not answer within {settings.request_timeout:g} s",
                f"raise {REQUEST_TIMEOUT_ENV}, or use --backend offline",
            ) from None
        run.status = "time_limit"
    except anthropic.APIConnectionError as exc:
        raise ClaudeAPIError(
            f"cannot reach the Anthropic API: {exc}",
            "check the network (and ANTHROPIC_BASE_URL if set), or use --backend offline",
        ) from None
    except (anthropic.APIResponseValidationError, json.JSONDecodeError) as exc:
        raise ClaudeAPIError(
            f"the Anthropic API sent a malformed response ({_malformed(exc)})",
            "check ANTHROPIC_BASE_URL (a proxy or an error page?), or use --backend offline",
        ) from None
    except httpx2.TransportError as exc:  # the connection broke while a stream was read
        raise ClaudeAPIError(
            f"the connection to the Anthropic API broke mid-response: {_malformed(exc)}",
            "run the command again, or use --backend offline",
        ) from None
    finally:
        runner.close()
    return run


def _final_message(stream: BetaMessageStream[Any]) -> BetaMessage:
    """The message a streamed turn carried (the SDK asserts when the stream had none)."""
    try:
        message = stream.get_final_message()
    except AssertionError:
        raise _Malformed("an event stream without a message") from None
    if not isinstance(getattr(message, "content", None), list):
        raise _Malformed("an event stream whose message has no content")
    return message


def _malformed(exc: BaseException) -> str:
    """What was wrong with a response, in a few words."""
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON: {exc.doc[:60]!r}" if exc.doc else "an empty body"
    return f"{type(exc).__name__}: {first_line(exc)[:160]}"


def budget_tokens(usage: TokenUsage) -> int:
    """What `--token-budget` counts: input, output and cache writes in full, cache reads
    at `CACHE_READ_WEIGHT` (as they are billed)."""
    return round(
        usage.input_tokens
        + usage.output_tokens
        + usage.cache_creation_input_tokens
        + CACHE_READ_WEIGHT * usage.cache_read_input_tokens
    )


def _add_usage(total: TokenUsage, usage: BetaUsage | None) -> None:
    if usage is None:
        return
    total.input_tokens += usage.input_tokens or 0
    total.output_tokens += usage.output_tokens or 0
    total.cache_creation_input_tokens += usage.cache_creation_input_tokens or 0
    total.cache_read_input_tokens += usage.cache_read_input_tokens or 0


def _explain_unknown_tools(
    response: dict | None, calls: list[BetaToolUseBlock], names: set[str]
) -> None:
    """The SDK answers an unknown tool with "not found"; say which tools there are."""
    if not response:
        return
    by_id = {c.id: c for c in calls}
    for block in response["content"]:
        call = by_id.get(block.get("tool_use_id"))
        if call is not None and call.name not in names and block.get("is_error"):
            block["content"] = (
                f"Error: there is no tool named {call.name!r}. "
                f"The tools are: {', '.join(sorted(names))}."
            )


def _errors(response: dict | None, calls: list[BetaToolUseBlock]) -> list[str]:
    if not response:
        return []
    by_id = {c.id: c.name for c in calls}
    out = []
    for block in response["content"]:
        if block.get("is_error"):
            content = block.get("content")
            text = (
                content
                if isinstance(content, str)
                else " ".join(b.get("text", "") for b in content or [])
            )
            out.append(f"{by_id.get(block.get('tool_use_id'), '?')}: {text}")
    return out


def _api_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
    return str(getattr(exc, "message", exc))


# --------------------------------------------------------------------- outcomes
_OUTCOMES: dict[str, tuple[str, str]] = {
    "refused": (
        "Claude declined to draft this migration (stop_reason: refusal)",
        "rephrase the request, or draft it with --backend offline",
    ),
    "max_tokens": (
        "Claude's response was cut off at the output limit (stop_reason: max_tokens)",
        f"raise {MAX_TOKENS_ENV} (now {{max_tokens}}) or split the request",
    ),
    "context_exceeded": (
        "the conversation outgrew the model's context window",
        "split the request into smaller migrations",
    ),
    "turn_limit": (
        "Claude did not submit a verified draft within {max_turns} turns",
        "raise --max-turns, or split the request into smaller migrations",
    ),
    "token_budget": (
        "the run used {used:,} tokens (cache reads counted at a tenth), over the --token-budget "
        "of {budget:,}, without a verified draft",
        "raise --token-budget, or split the request",
    ),
    "no_submission": (
        "Claude stopped without submitting a draft",
        "rephrase the request, or draft it with --backend offline",
    ),
    "time_limit": (
        "Claude did not submit a verified draft within the time limit of {time_limit:g} s",
        f"raise --time-limit (or {TIME_LIMIT_ENV}), or split the request",
    ),
}


def outcome_error(run: ClaudeRun, settings: ClaudeSettings) -> ClaudeDraftError:
    """The one-line error for a run that ended without a submission."""
    problem, fix = _OUTCOMES[run.status]
    values = {
        "max_turns": settings.max_turns,
        "max_tokens": settings.max_tokens,
        "used": budget_tokens(run.usage),
        "budget": settings.token_budget,
        "time_limit": settings.time_limit,
    }
    problem = problem.format(**values)
    if run.status == "no_submission" and run.final_text.strip():
        problem += f"; its last words: {' '.join(run.final_text.split())[:300]}"
    if run.tool_errors and run.status in (
        "turn_limit",
        "token_budget",
        "no_submission",
        "time_limit",
    ):
        problem += f"; last tool error: {' '.join(run.tool_errors[-1].split())[:300]}"
    problem += f" ({run.turns} turns, {run.usage.total:,} tokens; nothing was written)"
    return ClaudeDraftError(problem, fix.format(**values), run)


def finalize(run: ClaudeRun, toolbox: Toolbox, settings: ClaudeSettings) -> ClaudeDraft:
    """Prove the submitted revision again (the one proof stage) and attach how it was made."""
    assert run.submission is not None
    source = run.submission.revision_source
    try:
        proof = toolbox.prove(source)
    except ToolboxError as exc:
        raise ClaudeDraftError(
            f"migagent could not re-verify Claude's draft: {exc.message}",
            "run `migagent verify` on the revision yourself; nothing was written",
            run,
        ) from None
    lint = proof.lint
    if lint is None:
        lint_status, lint_detail = "not_run", "; ".join(proof.lint_errors)
    else:
        lint_status = "errors" if lint.errors else ("warnings" if lint.warnings else "clean")
        lint_detail = "; ".join(f"{f.rule}: {f.message}" for f in lint.findings[:5])
    meta = SpecMeta(
        backend="claude",
        model=settings.model,
        prompts_version=PROMPTS_VERSION,
        usage=run.usage.model_copy(),
        turns=run.turns,
        verification="passed" if proof.passed else "failed",
        verification_detail=proof.detail,
        lint=lint_status,
        lint_detail=lint_detail,
        **proof.meta_fields(),
    )
    spec = MigrationSpec.from_draft(run.submission.spec, meta)
    return ClaudeDraft(revision_source=source, spec=spec, proof=proof, run=run)


def draft_with_claude(
    request: str,
    toolbox: Toolbox,
    *,
    settings: ClaudeSettings | None = None,
    client: Any = None,
    project_dir: Path | None = None,
    down_revision: str | None = None,
    message: str | None = None,
) -> ClaudeDraft:
    """Draft `request` with Claude: run, then re-verify what it submitted.

    Raises `ClaudeDraftError` (exit 1, nothing to write) when the run ends
    without a submission, or when migagent's own re-verification fails, and
    `ClaudeAPIError` (exit 2) when the API cannot be used.
    """
    settings = settings or ClaudeSettings.from_env()
    run = run_claude(
        request,
        toolbox,
        settings,
        client=client,
        project_dir=project_dir,
        down_revision=down_revision,
        message=message,
    )
    if run.status != "submitted":
        raise outcome_error(run, settings)
    draft = finalize(run, toolbox, settings)
    if not draft.verified:
        raise ClaudeDraftError(
            "Claude's draft passed its own verification but failed migagent's re-verification: "
            + draft.spec.meta.verification_detail,
            "nothing was written; run the request again or use --backend offline",
            run,
        )
    return draft


def usage_line(run: ClaudeRun) -> str:
    """Turns and tokens, as the CLI prints them."""
    u = run.usage
    return (
        f"Claude ({run.model}): {run.turns} turns; tokens: {u.input_tokens:,} input, "
        f"{u.output_tokens:,} output, {u.cache_read_input_tokens:,} cache reads, "
        f"{u.cache_creation_input_tokens:,} cache writes"
    )


# ----------------------------------------------------------------- the pipeline backend
class ClaudeBackend:
    """The Claude backend as `migagent.agent.pipeline.draft` uses it.

    Unlike a planner it writes and proves the revision itself, so the pipeline
    hands it the whole draft (`writes_revision`) instead of asking for a plan.
    """

    name = "claude"
    writes_revision = True

    def __init__(self, settings: ClaudeSettings | None = None, *, client: Any = None) -> None:
        self.settings = settings or ClaudeSettings.from_env()
        self.settings.require_key()
        self.client = client

    def plan(self, request: str, facts: Any) -> Any:
        raise UsageError(
            "the Claude backend writes the revision itself and has no separate plan",
            "call migagent.agent.pipeline.draft(), which hands it the whole draft",
        )

    def write(self, request: str, toolbox: Toolbox, options: Any) -> ClaudeDraft:
        """Let Claude write and repair the revision; migagent's own proof of it is attached."""
        toolbox.estimates = bool(getattr(options, "estimate", True))  # --no-estimate: off
        return draft_with_claude(
            request,
            toolbox,
            settings=self.settings,
            client=self.client,
            down_revision=options.down_revision,
            message=options.message,
        )

    def file_name(self, draft: ClaudeDraft, naming: Any) -> tuple[str, str]:
        """(revision id, file name by the project's naming) of a written draft."""
        revision_id = _revision_id(draft)
        return revision_id, _filename(draft, revision_id, naming)


def _revision_id(draft: ClaudeDraft) -> str:
    rev = getattr(draft.verification, "revision", None)
    if isinstance(rev, str) and rev:
        return rev
    found = re.search(
        r"""^revision\s*(?::[^=]*)?=\s*["']([A-Za-z0-9_]+)["']""", draft.revision_source, re.M
    )
    if not found:
        raise ClaudeDraftError(
            'Claude\'s revision has no `revision = "..."` identifier',
            "nothing was written; run the request again",
            draft.run,
        )
    return found.group(1)


def _filename(draft: ClaudeDraft, revision_id: str, naming: Any) -> str:
    """The project's file name for the revision (never a path the model chose)."""
    from migagent.render.revision import RevisionPlan, revision_filename

    try:
        doc = (ast.get_docstring(ast.parse(draft.revision_source)) or "").strip().splitlines()
    except SyntaxError:
        doc = []
    message = (doc[0].strip() if doc else "") or draft.spec.purpose.summary or "migration"
    plan = RevisionPlan(message=message, revision=revision_id)
    return revision_filename(plan, naming)
