"""A real local HTTP server that speaks enough of the OpenAI API for tests and benchmarks.

It answers ``POST /v1/chat/completions`` and ``GET /v1/models`` from a script of replies (model text, HTTP
errors, hangs, dropped connections), checks each chat request's shape the way a strict server would (roles, text
and image parts, images as decodable data URLs, sampling fields) and records every request, so tests assert on
what really went over the wire.

    with StubOpenAI() as stub:
        stub.reply("Thought: ...\\nAction: click(start_box='(10,20)')")
        loaded = load_model(stub.spec, family="ui-tars-1.5")       # or OpenAIModel(stub.url, "stub-model")
        ...
        assert stub.requests[0].images == 1

(The ``openai_stub`` / ``make_openai_stub`` fixtures of guiagent's pytest plugin start and stop one for a test.)

Replies are consumed in order; when the script is empty the stub answers ``default_text`` (None: HTTP 500).
Requests that break the expected shape get HTTP 400 and are listed in ``stub.violations``.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image

ROLES = {"system", "user", "assistant"}


@dataclass
class Reply:
    """One scripted answer of the stub: model text, an HTTP error, a hang or a dropped connection."""
    kind: str  # "text" | "error" | "hang" | "drop"
    text: str = ""
    status: int = 200
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class RecordedRequest:
    """One request the stub received, as it came over the wire (JSON body decoded, images decoded)."""
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    #: decoded images of a chat request, in order: (mime type, PIL image)
    decoded_images: list[tuple[str, Image.Image]] = field(default_factory=list)

    @property
    def images(self) -> int:
        """The number of images in the request."""
        return len(self.decoded_images)

    @property
    def roles(self) -> list[str]:
        """The roles of the request's messages, in order."""
        return [m["role"] for m in (self.body or {}).get("messages", [])]


class StubOpenAI:
    """A local OpenAI-compatible HTTP server answering from a script (see the module docstring).

    Use it as a context manager, or call ``start`` and ``stop``.

    Args:
        models: the model ids ``GET /v1/models`` lists.
        default_text: the answer once the script is used up (None: HTTP 500).
        max_images: refuse requests with more images than this, with vLLM's ``--limit-mm-per-prompt`` message.
        api_key: when set, requests without ``Authorization: Bearer <api_key>`` get HTTP 401.
        decode_images: decode every image (False checks only the data-URL prefix, for benchmarks).
    """
    def __init__(self, models: tuple[str, ...] = ("stub-model",), *, default_text: str | None = None,
                 max_images: int | None = None, api_key: str | None = None, decode_images: bool = True):
        self.models = tuple(models)
        #: False: check only the data-URL prefix of images (benchmarks measure the client, not PIL decoding)
        self.decode_images = decode_images
        self.default_text = default_text
        #: emulate vLLM's --limit-mm-per-prompt: more images than this get vLLM's 400 message
        self.max_images = max_images
        #: when set, requests without "Authorization: Bearer <api_key>" get 401
        self.api_key = api_key
        self.script: deque[Reply] = deque()
        self.requests: list[RecordedRequest] = []
        self.violations: list[str] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ scripting

    def reply(self, text: str, *, prompt_tokens: int = 100, completion_tokens: int = 20) -> "StubOpenAI":
        """Queue a successful answer.

        Args:
            text: the assistant message's content.
            prompt_tokens: the usage the stub reports for the prompt.
            completion_tokens: the usage the stub reports for the answer.

        Returns:
            The stub, so calls chain.
        """
        self.script.append(Reply("text", text=text, prompt_tokens=prompt_tokens,
                                 completion_tokens=completion_tokens))
        return self

    def error(self, status: int, message: str = "stub error", headers: dict[str, str] | None = None) -> "StubOpenAI":
        """Queue an HTTP error answer in the OpenAI error format.

        Args:
            status: the HTTP status, e.g. 429 or 500.
            message: the error message.
            headers: extra response headers, e.g. ``{"Retry-After": "1"}``.

        Returns:
            The stub, so calls chain.
        """
        self.script.append(Reply("error", status=status, message=message, headers=dict(headers or {})))
        return self

    def hang(self, seconds: float, then: str = "too late") -> "StubOpenAI":
        """Wait ``seconds`` before answering ``then`` (the client should time out first)."""
        self.script.append(Reply("hang", seconds=seconds, text=then))
        return self

    def drop(self) -> "StubOpenAI":
        """Close the connection without answering (a connection error for the client)."""
        self.script.append(Reply("drop"))
        return self

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """The base URL clients use (``http://127.0.0.1:PORT/v1``).

        Raises:
            AssertionError: the stub was not started.
        """
        assert self._server is not None, "start the stub first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def spec(self) -> str:
        """The model SPEC that talks to this server: ``openai:http://127.0.0.1:PORT/v1``."""
        return f"openai:{self.url}"

    def start(self) -> "StubOpenAI":
        """Start serving on a free port of 127.0.0.1, in a daemon thread; returns the stub."""
        stub = self

        class Handler(_Handler):
            owner = stub

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port; hanging replies are released. Safe to call twice."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "StubOpenAI":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ request checking

    def _next(self) -> Reply:
        with self._lock:
            if self.script:
                return self.script.popleft()
        if self.default_text is None:
            return Reply("error", status=500, message="stub: no scripted reply left")
        return Reply("text", text=self.default_text, prompt_tokens=100, completion_tokens=20)

    def check_chat(self, body: Any, record: RecordedRequest) -> str | None:
        """The first way ``body`` breaks the chat-completions shape, or None."""
        if not isinstance(body, dict):
            return "body is not a JSON object"
        if not isinstance(body.get("model"), str) or not body["model"]:
            return "model must be a non-empty string"
        if body["model"] not in self.models:
            return None  # reported as 404 by the caller
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "messages must be a non-empty list"
        for i, m in enumerate(messages):
            if not isinstance(m, dict) or m.get("role") not in ROLES:
                return f"messages[{i}].role must be one of {sorted(ROLES)}"
            content = m.get("content")
            if isinstance(content, str):
                continue
            if not isinstance(content, list) or not content:
                return f"messages[{i}].content must be a string or a non-empty list of parts"
            for j, part in enumerate(content):
                where = f"messages[{i}].content[{j}]"
                if not isinstance(part, dict):
                    return f"{where} must be an object"
                if part.get("type") == "text":
                    if not isinstance(part.get("text"), str):
                        return f"{where}.text must be a string"
                elif part.get("type") == "image_url":
                    if m["role"] != "user":
                        return f"{where}: images are only allowed in user messages"
                    url = (part.get("image_url") or {}).get("url")
                    problem = _decode_image(url, record, self.decode_images)
                    if problem:
                        return f"{where}: {problem}"
                else:
                    return f"{where}.type must be 'text' or 'image_url'"
        for name, kind in (("temperature", (int, float)), ("top_p", (int, float)), ("max_tokens", int)):
            if name in body and (isinstance(body[name], bool) or not isinstance(body[name], kind)):
                return f"{name} must be a number"
        if "temperature" in body and not 0 <= body["temperature"] <= 2:
            return "temperature must be within 0..2"
        if "top_p" in body and not 0 < body["top_p"] <= 1:
            return "top_p must be within (0, 1]"
        if "max_tokens" in body and body["max_tokens"] < 1:
            return "max_tokens must be positive"
        if "stop" in body and not (isinstance(body["stop"], list) and all(isinstance(s, str) for s in body["stop"])):
            return "stop must be a list of strings"
        return None


def _decode_image(url: Any, record: RecordedRequest, decode: bool = True) -> str | None:
    if not isinstance(url, str):
        return "image_url.url must be a string"
    for mime in ("image/png", "image/jpeg"):
        prefix = f"data:{mime};base64,"
        if url.startswith(prefix):
            if not decode:
                record.decoded_images.append((mime, None))  # type: ignore[arg-type]
                return None
            try:
                raw = base64.b64decode(url[len(prefix):], validate=True)
                image = Image.open(io.BytesIO(raw))
                image.load()
            except Exception as exc:  # noqa: BLE001 - any decoding failure is a bad request
                return f"image data does not decode as {mime}: {exc}"
            expected = {"image/png": "PNG", "image/jpeg": "JPEG"}[mime]
            if image.format != expected:
                return f"data URL says {mime} but the bytes are {image.format}"
            record.decoded_images.append((mime, image))
            return None
    return "image_url.url must be a data:image/png or data:image/jpeg base64 URL"


class _Handler(BaseHTTPRequestHandler):
    owner: StubOpenAI
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle + delayed ACK add ~40 ms per reply.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def _record(self, body: Any) -> RecordedRequest:
        record = RecordedRequest(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                 body if isinstance(body, dict) else None)
        with self.owner._lock:
            self.owner.requests.append(record)
        return record

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode("utf-8")
        if self.owner._stopping.is_set():
            return
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeouts): nothing to do
            pass

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self._send_json(status, {"error": {"message": message, "type": "stub_error", "code": status}}, headers)

    def _authorized(self) -> bool:
        if self.owner.api_key is None:
            return True
        if self.headers.get("Authorization") == f"Bearer {self.owner.api_key}":
            return True
        self._error(401, "Unauthorized")
        return False

    def do_GET(self) -> None:
        self._record(None)
        if not self._authorized():
            return
        if self.path.rstrip("/") == "/v1/models":
            now = int(time.time())
            self._send_json(200, {"object": "list", "data": [
                {"id": name, "object": "model", "created": now, "owned_by": "stub"} for name in self.owner.models]})
        else:
            self._error(404, f"no route {self.path}")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        record = self._record(body)
        if not self._authorized():
            return
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._error(404, f"no route {self.path}")
            return
        problem = self.owner.check_chat(body, record)
        if problem:
            self.owner.violations.append(problem)
            self._error(400, f"stub: bad request: {problem}")
            return
        if body["model"] not in self.owner.models:
            self._error(404, f"The model `{body['model']}` does not exist.")
            return
        limit = self.owner.max_images
        if limit is not None and record.images > limit:
            self._error(400, f"At most {limit} image(s) may be provided in one request.")
            return
        reply = self.owner._next()
        if reply.kind == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if reply.kind == "hang":
            if self.owner._stopping.wait(reply.seconds):
                return
        if reply.kind == "error":
            self._error(reply.status, reply.message, reply.headers)
            return
        self._send_json(200, {
            "id": f"chatcmpl-stub-{len(self.owner.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": reply.text}}],
            "usage": {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens,
                      "total_tokens": reply.prompt_tokens + reply.completion_tokens},
        })
