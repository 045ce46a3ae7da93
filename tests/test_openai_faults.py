"""A misbehaving model server: a 200 whose body is not JSON, a server that drips its answer one byte at a time,
and a base URL without /v1 each end in a ModelError that names what happened, never a traceback or a hang."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from guiagent.cli import main
from guiagent.errors import ModelError
from guiagent.models.base import Message, Sampling
from guiagent.models.openai_backend import OpenAIModel, RetryPolicy

ANSWER = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                     "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"},
                                  "finish_reason": "stop"}]}).encode()
MODELS = json.dumps({"object": "list", "data": [{"id": "m", "object": "model"}]}).encode()


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def _send(self, body: bytes, ctype: str = "application/json", drip: float = 0.0) -> None:
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for i in range(0, len(body), 1 if drip else len(body)):
                self.wfile.write(body[i:i + (1 if drip else len(body))])
                self.wfile.flush()
                time.sleep(drip)
        except OSError:  # the client gave up: expected for the drip
            pass

    def do_GET(self) -> None:
        if self.server.mode == "v1-only" and not self.path.startswith("/v1/"):
            self._send(b"<html><body>web UI</body></html>", "text/html")
            return
        self._send(MODELS)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        mode = self.server.mode
        if mode == "bad-json":
            self._send(b'{"choices": [')
        elif mode == "drip":
            self._send(ANSWER, drip=0.05)  # ~10 s for the whole answer, but never 0.5 s without a byte
        elif mode == "v1-only" and not self.path.startswith("/v1/"):
            self.send_response(404)
            self.end_headers()
        else:
            self._send(ANSWER)


@pytest.fixture
def server():
    servers = []

    def start(mode: str) -> str:
        s = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        s.mode, s.daemon_threads = mode, True
        threading.Thread(target=s.serve_forever, daemon=True).start()
        servers.append(s)
        return f"http://127.0.0.1:{s.server_address[1]}"

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def _ask(model: OpenAIModel) -> str:
    return model.complete([Message.text("user", "x")], Sampling()).text


def test_a_200_that_is_not_json_is_a_model_error(server):
    model = OpenAIModel(server("bad-json") + "/v1", "m", retry=RetryPolicy(retries=0))
    with pytest.raises(ModelError, match="answered, but its answer is not valid JSON"):
        _ask(model)


def test_a_dripping_server_hits_the_total_deadline_and_is_named(server):
    model = OpenAIModel(server("drip") + "/v1", "m", timeout=0.5, retry=RetryPolicy(retries=0))
    start = time.monotonic()
    with pytest.raises(ModelError, match=r"did not send a complete answer within 0.5s .*too slowly") as err:
        _ask(model)
    assert time.monotonic() - start < 5  # the whole answer would take ~10 s
    assert "cannot connect" not in str(err.value)
    # the model still works for the next request (the stuck connection was dropped, not the model)
    assert model._client is not None


def test_base_url_without_v1_gives_the_advice(server):
    url = server("v1-only")
    with pytest.raises(ModelError, match=f"try {url}/v1"):
        OpenAIModel(url, None, retry=RetryPolicy(retries=0))
    with pytest.raises(ModelError, match=f"try {url}/v1"):
        _ask(OpenAIModel(url, "m", retry=RetryPolicy(retries=0)))
    assert _ask(OpenAIModel(url + "/v1", None)) == "hi"


def test_cli_reports_it_in_one_line(server, tmp_path, capsys):
    url = server("v1-only")
    code = main(["run", "x", "--env", "mock", "--model", f"openai:{url}", "--family", "ui-tars-1.5",
                 "--retries", "0", "--no-record", "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err and f"try {url}/v1" in err
