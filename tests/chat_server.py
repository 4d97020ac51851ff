"""A real OpenAI-compatible chat server for tests, on a real socket, whose replies a test scripts.

`ChatServer(respond)` calls `respond(exchange)` for every POST; the exchange carries the request (`body`,
`headers`, `path`, `prompt`, `attempt`: how many times this same prompt was asked before) and the ways to
answer it, good or broken: `chat(text)`, `json(obj)`, `raw(bytes)`, `truncated()`, `trickle()`, `huge()`,
`redirect(url)`.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def prompt_of(body: dict) -> str:
    return body["messages"][-1]["content"]


class Exchange:
    def __init__(self, handler: BaseHTTPRequestHandler, body: dict, attempt: int):
        self.handler, self.body, self.attempt = handler, body, attempt
        self.path, self.headers = handler.path, dict(handler.headers)
        self.prompt = prompt_of(body)

    def raw(self, data: bytes, status: int = 200, length: int | None = None, headers: dict | None = None):
        h = self.handler
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data) if length is None else length))
        for key, value in (headers or {}).items():
            h.send_header(key, value)
        h.end_headers()
        h.wfile.write(data)
        h.wfile.flush()

    def json(self, obj, status: int = 200, headers: dict | None = None):
        self.raw(json.dumps(obj).encode(), status, headers=headers)

    def chat(self, text: str | None):
        self.json({"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]})

    def truncated(self):
        """Promise 400 bytes, send 30, close: the client sees an IncompleteRead."""
        self.raw(b'{"choices": [{"message": {"con', length=400)

    def trickle(self, interval_s: float = 0.5, total: int = 10_000):
        """A valid start, then one byte every `interval_s`: each read is quick, the whole reply is endless."""
        self.raw(b"{", length=total)
        try:
            for _ in range(total - 1):
                time.sleep(interval_s)
                self.handler.wfile.write(b" ")
                self.handler.wfile.flush()
        except OSError:
            pass  # the client hung up, as it should

    def huge(self, size: int = 20_000_000, declare: bool = True):
        """A 20 MB chat reply; with declare=False it has no Content-Length and ends when the socket closes."""
        filler = json.dumps({"choices": [{"message": {"role": "assistant", "content": "x" * size}}]}).encode()
        h = self.handler
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        if declare:
            h.send_header("Content-Length", str(len(filler)))
        h.end_headers()
        try:
            h.wfile.write(filler)
        except OSError:
            pass
        h.close_connection = True

    def redirect(self, url: str, status: int = 307):
        self.raw(b"", status=status, headers={"Location": url})


class ChatServer:
    """`port=0` picks a free port; passing an earlier server's `port` gives a later one the same URL."""

    def __init__(self, respond, port: int = 0):
        self.requests: list[Exchange] = []
        self.respond = respond
        self._asked: Counter = Counter()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server._lock:
                    exchange = Exchange(self, body, server._asked[prompt_of(body)])
                    server._asked[exchange.prompt] += 1
                    server.requests.append(exchange)
                server.respond(exchange)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> ChatServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
