"""The one client for OpenAI-compatible chat endpoints (vLLM, llama.cpp server, Ollama, OpenAI), stdlib only.

Everything in the framework that calls an LLM over HTTP (the `llm` rewriter, the `llm` judge) goes through
`ChatClient.chat`, so they share one behaviour:

- 5xx, 429, a dropped connection, a truncated body and a missed deadline are retried `retries` times with
  exponential back-off (`Retry-After` is honoured, capped); other replies are answered at once.
- `timeout_s` is a deadline for the whole request (connect, headers, body), not for each socket read: a
  server trickling a byte at a time is cut off when it passes.
- A reply larger than `max_reply_bytes` is refused without being read further.
- Anything but a chat completion whose first choice carries a string `content` (not JSON, not UTF-8, `[]`,
  `content: null`, ...) is an `LlmError` for that one item, never a crash.
- The key is sent only to the configured origin: a redirect to another scheme, host or port is refused.

`LlmError.kind` is a short stable word (`http_500`, `timeout`, `transport`, `too_large`, `bad_reply`,
`redirect`), so journaled failures read the same on every run.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from s2i_core.errors import ConfigError, S2IError

REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 5
MAX_BACKOFF_S = 30.0
# Options that change how a reply is fetched, not what is asked: a journal of replies stays valid across them.
TRANSPORT_FIELDS = ("api_key_env", "timeout_s", "retries", "backoff_s", "max_reply_bytes", "retry_failed",
                    "concurrency")


@dataclass
class ClientConfig:
    api_key_env: str = "OPENAI_API_KEY"  # environment variable holding the key (many local servers need none)
    timeout_s: float = 60.0  # deadline for one whole request, connect to last byte
    retries: int = 3  # further attempts after a 5xx, 429, dropped connection or missed deadline
    backoff_s: float = 0.5  # first wait between attempts; doubles each time (capped at 30 s)
    max_reply_bytes: int = 262144  # a longer reply is refused (a chat reply of a few hundred tokens is ~2 KB)
    retry_failed: bool = False  # ask again for items whose failure a previous run journaled


class LlmError(S2IError):
    """One request failed for good; `kind` says how (see the module docstring)."""

    def __init__(self, kind: str, message: str):
        self.kind = kind
        super().__init__(message)


class _Retry(Exception):
    def __init__(self, error: LlmError, wait_s: float | None = None):
        self.error, self.wait_s = error, wait_s


def check_client_config(cfg: ClientConfig, owner: str) -> None:
    """Range checks, as config errors naming the option (`owner` is e.g. 'rewriter' or 'judge')."""
    if not cfg.timeout_s > 0:
        raise ConfigError(f"{owner}.timeout_s={cfg.timeout_s}: must be > 0 seconds")
    if cfg.retries < 0:
        raise ConfigError(f"{owner}.retries={cfg.retries}: must be >= 0")
    if cfg.backoff_s < 0:
        raise ConfigError(f"{owner}.backoff_s={cfg.backoff_s}: must be >= 0 seconds")
    if cfg.max_reply_bytes < 1:
        raise ConfigError(f"{owner}.max_reply_bytes={cfg.max_reply_bytes}: must be >= 1")


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or (443 if parts.scheme == "https" else 80)


class ChatClient:
    """POSTs chat-completion bodies to `<base_url>/chat/completions` and returns the first choice's content."""

    def __init__(self, base_url: str, cfg: ClientConfig, url_option: str):
        """`url_option` names the option holding `base_url` (e.g. 'judge.base_url') for error messages."""
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{url_option}={base_url!r}: must be an http:// or https:// URL, e.g. "
                              "http://127.0.0.1:8000/v1")
        check_client_config(cfg, url_option.split(".")[0])
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.cfg = cfg

    def chat(self, body: dict) -> str:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if key := os.environ.get(self.cfg.api_key_env, ""):
            headers["Authorization"] = f"Bearer {key}"
        for attempt in range(self.cfg.retries + 1):
            try:
                return self._content(self._post(data, headers))
            except _Retry as retry:
                if attempt == self.cfg.retries:
                    raise retry.error from None
                wait = self.cfg.backoff_s * 2 ** attempt * random.uniform(0.5, 1.0)  # jitter spreads workers
                if retry.wait_s is not None:
                    wait = max(wait, retry.wait_s)
                time.sleep(min(wait, MAX_BACKOFF_S))
        raise AssertionError("unreachable")

    def _post(self, data: bytes, headers: dict) -> bytes:
        """One attempt, following same-origin redirects, within one deadline."""
        deadline = time.monotonic() + self.cfg.timeout_s
        url = self.url
        for _ in range(MAX_REDIRECTS + 1):
            status, location, wait_s, payload = self._exchange(url, data, headers, deadline)
            if status in REDIRECTS:
                target = urljoin(url, location) if location else ""
                if not target or _origin(target) != _origin(self.url):
                    raise LlmError("redirect", f"{self.url} redirected to {target or '(no Location)'}, another "
                                               "origin; not followed, so the key stays with the configured "
                                               "server (set the URL to the final address)")
                url = target
                continue
            if status == 429 or status >= 500:
                raise _Retry(LlmError(f"http_{status}", f"{url}: HTTP {status}: {_excerpt(payload)}"), wait_s)
            if status >= 300:
                raise LlmError(f"http_{status}", f"{url}: HTTP {status}: {_excerpt(payload)}")
            return payload
        raise LlmError("redirect", f"{self.url}: more than {MAX_REDIRECTS} redirects")

    def _exchange(self, url: str, data: bytes, headers: dict, deadline: float):
        parts = urlsplit(url)
        connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Retry(LlmError("timeout", f"{self.url}: no reply within {self.cfg.timeout_s:g} s"))
        conn = connection_class(parts.hostname, parts.port, timeout=remaining)
        expired, connected = threading.Event(), []

        def cut() -> None:  # wakes a read blocked mid-trickle; a socket timeout alone restarts with every byte
            expired.set()
            for sock in connected:  # conn.sock itself is dropped once the response owns the socket
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        watchdog = threading.Timer(remaining, cut)
        watchdog.daemon = True
        watchdog.start()
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            conn.connect()  # bounded by the socket timeout, set to what is left of the deadline
            connected.append(conn.sock)
            if expired.is_set():
                raise TimeoutError
            conn.request("POST", path, body=data, headers=headers)
            response = conn.getresponse()
            payload = self._read_capped(response, url)
            return response.status, response.getheader("Location"), _retry_after(response), payload
        except (OSError, http.client.HTTPException) as exc:
            if expired.is_set() or isinstance(exc, TimeoutError):
                raise _Retry(LlmError("timeout", f"{self.url}: no complete reply within "
                                                 f"{self.cfg.timeout_s:g} s")) from None
            raise _Retry(LlmError("transport", f"{url}: {type(exc).__name__}: {exc}")) from None
        finally:
            watchdog.cancel()
            conn.close()

    def _read_capped(self, response: http.client.HTTPResponse, url: str) -> bytes:
        cap = self.cfg.max_reply_bytes
        declared = response.getheader("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            raise LlmError("too_large", f"{url}: reply of {int(declared)} bytes exceeds max_reply_bytes={cap}")
        chunks, size = [], 0
        while chunk := response.read(min(65536, cap + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > cap:
                raise LlmError("too_large", f"{url}: reply exceeds max_reply_bytes={cap}")
        if response.length:  # http.client returns short at EOF instead of raising on a cut Content-Length body
            raise http.client.IncompleteRead(b"".join(chunks), response.length)
        return b"".join(chunks)

    def _content(self, payload: bytes) -> str:
        try:
            reply = json.loads(payload.decode("utf-8"))
        except UnicodeDecodeError:
            raise LlmError("bad_reply", f"{self.url}: reply is not UTF-8: {_excerpt(payload)}") from None
        except ValueError:
            raise LlmError("bad_reply", f"{self.url}: reply is not JSON: {_excerpt(payload)}") from None
        try:
            content = reply["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            content = None
        if not isinstance(content, str):
            raise LlmError("bad_reply", f"{self.url}: reply is not a chat completion with a text message: "
                                        f"{_excerpt(payload)}")
        return content


def _retry_after(response: http.client.HTTPResponse) -> float | None:
    value = (response.getheader("Retry-After") or "").strip()
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: fall back to our own back-off


def _excerpt(payload: bytes, n: int = 200) -> str:
    return repr(payload[:n].decode("utf-8", errors="replace")) + ("..." if len(payload) > n else "")
