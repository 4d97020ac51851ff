"""The one LLM client (s2i_core.llm) against a real local HTTP server that misbehaves in every way we know of."""

from __future__ import annotations

import time

import pytest
from chat_server import ChatServer

from s2i_core.errors import ConfigError
from s2i_core.llm import ChatClient, ClientConfig, LlmError

BODY = {"model": "m", "seed": 0, "messages": [{"role": "user", "content": "Rewrite: noise is poor."}]}


def client(url: str, **options) -> ChatClient:
    options = {"retries": 2, "backoff_s": 0.01, "timeout_s": 5.0, **options}
    return ChatClient(url, ClientConfig(**options), "judge.base_url")


def fails(server: ChatServer, **options) -> LlmError:
    with pytest.raises(LlmError) as failure:
        client(server.url, **options).chat(BODY)
    return failure.value


def test_a_good_reply_returns_the_content_and_sends_the_key(monkeypatch):
    monkeypatch.setenv("S2I_TEST_KEY", "sekrit")
    with ChatServer(lambda ex: ex.chat("The noise is poor.")) as server:
        assert client(server.url, api_key_env="S2I_TEST_KEY").chat(BODY) == "The noise is poor."
        (request,) = server.requests
        assert request.path == "/v1/chat/completions" and request.body == BODY
        assert request.headers["Authorization"] == "Bearer sekrit"


@pytest.mark.parametrize("respond, kind, attempts", [
    (lambda ex: ex.json({"error": "overloaded"}, status=500), "http_500", 3),
    (lambda ex: ex.json({"error": "bad request"}, status=400), "http_400", 1),  # asking again will not help
    (lambda ex: ex.json([]), "bad_reply", 1),  # valid JSON, wrong shape
    (lambda ex: ex.json({"choices": []}), "bad_reply", 1),
    (lambda ex: ex.chat(None), "bad_reply", 1),  # content: null
    (lambda ex: ex.json({"choices": [{"message": {"content": ["a", "list"]}}]}), "bad_reply", 1),
    (lambda ex: ex.raw(b"<html>gateway</html>"), "bad_reply", 1),
    (lambda ex: ex.raw(b'{"choices": [{"message": {"content": "\xff\xfe noise"}}]}'), "bad_reply", 1),
    (lambda ex: ex.truncated(), "transport", 3),  # IncompleteRead: a transport error, retried
    (lambda ex: ex.huge(), "too_large", 1),
    (lambda ex: ex.huge(declare=False), "too_large", 1),  # no Content-Length: cut while reading
], ids=["500", "400", "list", "no-choices", "null-content", "list-content", "html", "non-utf8", "truncated",
        "huge", "huge-undeclared"])
def test_every_broken_reply_is_one_failure_of_a_known_kind(respond, kind, attempts):
    with ChatServer(respond) as server:
        error = fails(server, max_reply_bytes=100_000)
        assert error.kind == kind, error
        assert len(server.requests) == attempts
        assert len(str(error)) < 400  # a huge or binary body is quoted in short, never dumped


def test_5xx_and_429_are_retried_with_backoff_then_succeed():
    def respond(ex):
        if ex.attempt == 0:
            return ex.json({"error": "busy"}, status=503)
        if ex.attempt == 1:
            return ex.json({"error": "slow down"}, status=429, headers={"Retry-After": "0.3"})
        ex.chat("fine")

    with ChatServer(respond) as server:
        start = time.monotonic()
        assert client(server.url, retries=2).chat(BODY) == "fine"
        assert len(server.requests) == 3
        assert time.monotonic() - start >= 0.3  # Retry-After was honoured
    with ChatServer(respond) as server:
        assert fails(server, retries=1).kind == "http_429"  # out of attempts: the last failure is reported


def test_the_deadline_bounds_the_whole_request_not_each_read():
    """A server sending one byte every 0.3 s never trips a per-read timeout of 1 s; the 1 s deadline cuts it."""
    with ChatServer(lambda ex: ex.trickle(interval_s=0.3)) as server:
        start = time.monotonic()
        error = fails(server, timeout_s=1.0, retries=1)
        elapsed = time.monotonic() - start
        assert error.kind == "timeout" and len(server.requests) == 2
        assert 1.9 < elapsed < 4.0, elapsed


def test_a_server_that_is_down_is_a_transport_failure():
    error = fails(type("Down", (), {"url": "http://127.0.0.1:9/v1"})(), retries=1)
    assert error.kind == "transport" and "127.0.0.1:9" in str(error)


def test_a_redirect_to_another_origin_is_refused_and_never_gets_the_key(monkeypatch):
    monkeypatch.setenv("S2I_TEST_KEY", "sekrit")
    with ChatServer(lambda ex: ex.chat("elsewhere")) as other:
        with ChatServer(lambda ex: ex.redirect(other.url + "/chat/completions")) as first:
            error = fails(first, api_key_env="S2I_TEST_KEY")
            assert error.kind == "redirect" and other.url in str(error)
            assert first.requests[0].headers["Authorization"] == "Bearer sekrit"
        assert other.requests == []  # neither the key nor the prompt left the configured server
        assert "sekrit" not in str(error)


def test_a_redirect_within_the_same_server_is_followed_with_the_key(monkeypatch):
    monkeypatch.setenv("S2I_TEST_KEY", "sekrit")

    def respond(ex):
        if ex.path == "/v1/chat/completions":
            return ex.redirect("/v2/chat/completions", status=308)
        ex.chat("moved")

    with ChatServer(respond) as server:
        assert client(server.url, api_key_env="S2I_TEST_KEY").chat(BODY) == "moved"
        assert [r.path for r in server.requests] == ["/v1/chat/completions", "/v2/chat/completions"]
        assert all(r.headers["Authorization"] == "Bearer sekrit" for r in server.requests)
        assert server.requests[1].body == BODY


@pytest.mark.parametrize("url, options, message", [
    ("localhost:8000/v1", {}, "judge.base_url='localhost:8000/v1': must be an http"),
    ("ftp://host/v1", {}, "must be an http"),
    ("http://127.0.0.1:8000/v1", {"retries": -1}, "judge.retries=-1: must be >= 0"),
    ("http://127.0.0.1:8000/v1", {"timeout_s": 0}, "judge.timeout_s=0: must be > 0"),
    ("http://127.0.0.1:8000/v1", {"max_reply_bytes": 0}, "judge.max_reply_bytes=0"),
    ("http://127.0.0.1:8000/v1", {"backoff_s": -1}, "judge.backoff_s=-1"),
])
def test_bad_client_options_are_config_errors(url, options, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        ChatClient(url, ClientConfig(**options), "judge.base_url")
