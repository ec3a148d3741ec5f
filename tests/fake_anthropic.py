"""A scripted fake of the Anthropic Messages API on 127.0.0.1, for tests without a network.

The fake only plays the model: the real SDK sends real HTTP requests to it
(point a client at `fake.url`, or set `ANTHROPIC_BASE_URL`), and everything
else (the tool runner, the tools, the databases, verification) is real.

A script is a list of steps, one per HTTP request. A step is a `Reply` (sent
as is) or a function taking the `Request` (the parsed body, headers and
everything sent so far) and returning a `Reply`, so a step can read the tool
results the SDK sent back and answer like a model would, e.g. repair a
revision after a failed verification. Helpers build the usual replies:

    fake = FakeAnthropic([
        reply(tool_use("introspect_schema", {})),
        lambda req: reply(tool_use("verify_revision", {"source": fix(req.last_tool_result())})),
        error(429, "rate_limit_error", "slow down"),
        reply(text("done"), stop_reason="end_turn"),
    ])
    with fake:
        client = anthropic.Anthropic(api_key="test", base_url=fake.url)

A request with `"stream": true` (the client streams when its max_tokens is
large) gets the same reply as server-sent events, as the real API sends them.
Faults a real server can have: `hang()` accepts the request and never
answers (until the fake is closed); `stall()` starts a streamed answer and goes
quiet; `garbage(b"...")` answers 200 with a body that is not what the API sends.

A request after the script ran out is answered with a 400 (so the SDK does
not retry) and recorded in `fake.errors`; `fake.assert_done()` fails the test
when the script was not used up or the fake saw something it did not expect.
Usable by the MCP and eval tests as well.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_USAGE = {
    "input_tokens": 100,
    "output_tokens": 50,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 0,
}


@dataclass
class Reply:
    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # sent as is instead of `body` (a malformed response)
    hang: bool = False  # accept the request and never answer
    stall: bool = False  # start a streamed answer, then go quiet


def hang() -> Reply:
    """A server that accepts the request and never answers (until the fake closes)."""
    return Reply(hang=True)


def stall(message: Reply | None = None) -> Reply:
    """A streamed answer that sends its headers and first event, then nothing more."""
    out = message or reply(text("..."))
    out.stall = True
    return out


def garbage(
    raw: bytes = b"<html>502 Bad Gateway</html>", content_type: str = "application/json"
) -> Reply:
    """A 200 whose body is not a Messages API response (a proxy's error page, say)."""
    return Reply(raw=raw, headers={"content-type": content_type})


@dataclass
class Request:
    """One request the SDK sent."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.body.get("messages", [])

    def tool_results(self) -> list[dict[str, Any]]:
        """The tool_result blocks of the last user message (what the tools just returned)."""
        if not self.messages or self.messages[-1]["role"] != "user":
            return []
        content = self.messages[-1]["content"]
        if isinstance(content, str):
            return []
        return [b for b in content if b.get("type") == "tool_result"]

    def last_tool_result(self) -> dict[str, Any]:
        results = self.tool_results()
        assert results, "expected the SDK to send a tool result"
        return results[-1]

    def last_tool_text(self) -> str:
        """The text of the last tool result (content may be a string or text blocks)."""
        content = self.last_tool_result().get("content")
        if isinstance(content, str):
            return content
        return "".join(b.get("text", "") for b in content or [])

    def last_tool_json(self) -> Any:
        return json.loads(self.last_tool_text())


Step = Reply | Callable[[Request], Reply]

_ids = itertools.count(1)


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def tool_use(name: str, input: dict[str, Any], id: str | None = None) -> dict[str, Any]:
    return {"type": "tool_use", "id": id or f"toolu_{next(_ids):04d}", "name": name, "input": input}


def reply(
    *content: dict[str, Any],
    stop_reason: str | None = None,
    usage: dict[str, int] | None = None,
    model: str = "claude-fake",
) -> Reply:
    """A Messages API response; stop_reason defaults to tool_use when it calls a tool."""
    if stop_reason is None:
        stop_reason = "tool_use" if any(b["type"] == "tool_use" for b in content) else "end_turn"
    return Reply(
        body={
            "id": f"msg_{next(_ids):04d}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": list(content),
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {**DEFAULT_USAGE, **(usage or {})},
        }
    )


def error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    """An API error response, e.g. error(429, "rate_limit_error", ...) or (529, "overloaded_error")."""
    return Reply(
        status=status,
        body={"type": "error", "error": {"type": kind, "message": message}},
        headers={"retry-after-ms": "10", **(headers or {})},
    )


def sse(message: dict[str, Any]) -> bytes:
    """A Messages API response as the stream of events the API sends for `stream: true`."""
    usage = message.get("usage", {})
    events: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {**message, "content": [], "stop_reason": None, "usage": usage},
        }
    ]
    for index, block in enumerate(message.get("content", [])):
        if block["type"] == "tool_use":
            start = {**block, "input": {}}
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        else:
            start = {**block, "text": ""}
            delta = {"type": "text_delta", "text": block.get("text", "")}
        events += [
            {"type": "content_block_start", "index": index, "content_block": start},
            {"type": "content_block_delta", "index": index, "delta": delta},
            {"type": "content_block_stop", "index": index},
        ]
    events += [
        {
            "type": "message_delta",
            "delta": {
                "stop_reason": message.get("stop_reason"),
                "stop_sequence": message.get("stop_sequence"),
            },
            "usage": usage,
        },
        {"type": "message_stop"},
    ]
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()


class FakeAnthropic:
    """A scripted Messages API server on 127.0.0.1 (a real HTTP server in a thread)."""

    def __init__(self, script: list[Step]) -> None:
        self.script = list(script)
        self.requests: list[Request] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()  # releases hanging requests on exit

    # ------------------------------------------------------------------ server
    @property
    def url(self) -> str:
        assert self._server is not None, "start the fake first (use it as a context manager)"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeAnthropic:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {"_raw": raw.decode(errors="replace")}
                request = Request(
                    method="POST",
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                out = fake._answer(request)
                if out.hang:
                    fake._closing.wait()
                    self.close_connection = True
                    return
                if out.stall:
                    first = sse(out.body).split(b"\n\n", 1)[0] + b"\n\n"
                    self.send_response(200)
                    self.send_header("content-type", "text/event-stream")
                    self.end_headers()
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        self.wfile.write(first)
                        self.wfile.flush()
                    fake._closing.wait()
                    self.close_connection = True
                    return
                headers = {"content-type": "application/json", **out.headers}
                if out.raw is not None:
                    data = out.raw
                elif body.get("stream") is True and out.status == 200:
                    data = sse(out.body)
                    headers["content-type"] = "text/event-stream"
                else:
                    data = json.dumps(out.body).encode()
                self.send_response(out.status)
                self.send_header("content-length", str(len(data)))
                self.send_header("request-id", f"req_fake_{len(fake.requests)}")
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)  # the client may have given up (its timeout)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # ------------------------------------------------------------------ script
    def _answer(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            if not request.path.startswith("/v1/messages"):
                self.errors.append(f"unexpected path {request.path}")
                return error(
                    404, "not_found_error", f"the fake serves /v1/messages, not {request.path}"
                )
            if not self.script:
                self.errors.append(f"request {len(self.requests)} after the script ran out")
                return Reply(
                    status=400,
                    body={
                        "type": "error",
                        "error": {
                            "type": "invalid_request_error",
                            "message": "fake script exhausted",
                        },
                    },
                )
            step = self.script.pop(0)
        try:
            return step(request) if callable(step) else step
        except AssertionError as exc:  # a step's expectation about the request failed
            self.errors.append(f"request {len(self.requests)}: {exc}")
            return Reply(
                status=400,
                body={
                    "type": "error",
                    "error": {"type": "invalid_request_error", "message": f"fake: {exc}"},
                },
            )

    @property
    def model_calls(self) -> list[Request]:
        """Requests that reached the script (retries included)."""
        return [r for r in self.requests if r.path.startswith("/v1/messages")]

    def assert_done(self) -> None:
        assert not self.errors, self.errors
        assert not self.script, f"{len(self.script)} scripted step(s) were never requested"
