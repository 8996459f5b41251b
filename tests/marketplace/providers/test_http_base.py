"""The shared marketplace HTTP base: what it retries, what it refuses to re-send, how it waits and logs.

The base is marketplace-agnostic, so these tests drive it with a scripted WSGI app (a queue of
plain HTTP answers) in-process, and with real sockets for connection and timeout failures.
"""

from __future__ import annotations

import logging
import pickle
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import pytest

from marketplace.providers.base import (
    AuthenticationFailed,
    Capability,
    NotFound,
    Rejected,
    Throttled,
    Unavailable,
    Unsupported,
)
from marketplace.providers.http import MarketplaceHttpClient, RetryPolicy, Timeouts, parse_retry_after


class ScriptedHttpApp:
    """Answers each request with the next scripted (status, headers, body); records what it got."""

    def __init__(self, answers: list[tuple[int, dict[str, str], str]]) -> None:
        self.answers = list(answers)
        self.requests: list[tuple[str, str]] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        self.requests.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
        status, headers, body = self.answers.pop(0) if self.answers else (200, {}, "{}")
        start_response(f"{status} Scripted", [("Content-Type", "text/plain"), *headers.items()])
        return [body.encode()]


class ExampleClient(MarketplaceHttpClient):
    marketplace_name = "Example"


def make_client(app: ScriptedHttpApp, sleeps: list[float], **policy: Any) -> ExampleClient:
    return ExampleClient(
        base_url="https://marketplace.example/api/",
        transport=httpx.WSGITransport(app=app),
        retry_policy=RetryPolicy(**{"max_attempts": 4, "base_delay": 0.5, "max_delay": 30.0, **policy}),
        sleep=sleeps.append,
        random_fraction=lambda: 0.0,
    )


def test_throttled_call_waits_for_retry_after_then_succeeds() -> None:
    app = ScriptedHttpApp([(429, {"Retry-After": "3"}, "slow down"), (200, {}, '{"ok": true}')])
    sleeps: list[float] = []
    response = make_client(app, sleeps).send(method="POST", path="orders", operation="CreateOrder", idempotent=False)
    assert response.json() == {"ok": True}
    assert sleeps == [3.0]
    assert app.requests == [("POST", "/api/orders"), ("POST", "/api/orders")]


def test_retry_after_beyond_the_cap_is_raised_at_once_for_the_task_queue_to_wait() -> None:
    app = ScriptedHttpApp([(429, {"Retry-After": "120"}, "")])
    sleeps: list[float] = []
    with pytest.raises(Throttled) as raised:
        make_client(app, sleeps, max_delay=30.0).send(method="GET", path="x", operation="Read", idempotent=True)
    assert raised.value.retry_after == 120.0
    assert sleeps == []
    assert len(app.requests) == 1


def test_throttling_that_never_ends_raises_throttled_after_the_last_attempt() -> None:
    app = ScriptedHttpApp([(429, {"Retry-After": "1"}, "")] * 4)
    sleeps: list[float] = []
    with pytest.raises(Throttled) as raised:
        make_client(app, sleeps).send(method="GET", path="x", operation="Read", idempotent=True)
    assert raised.value.retry_after == 1.0
    assert sleeps == [1.0, 1.0, 1.0]
    assert len(app.requests) == 4


def test_retry_after_as_http_date_is_understood() -> None:
    now = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Sat, 01 Mar 2025 12:00:09 GMT", now=now) == 9.0
    assert parse_retry_after("7", now=now) == 7.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None


def test_unavailable_reads_are_retried_with_exponential_backoff_then_raised_with_the_answer() -> None:
    app = ScriptedHttpApp([(503, {}, "maintenance until noon")] * 4)
    sleeps: list[float] = []
    with pytest.raises(Unavailable) as raised:
        make_client(app, sleeps).send(method="GET", path="customers", operation="ListCustomers", idempotent=True)
    assert sleeps == [0.5, 1.0, 2.0]
    assert len(app.requests) == 4
    assert "HTTP 503" in str(raised.value)
    assert "ListCustomers" in str(raised.value)
    assert "maintenance until noon" in str(raised.value)


def test_unavailable_read_recovers_after_one_backoff() -> None:
    app = ScriptedHttpApp([(502, {}, "bad gateway"), (200, {}, "[1, 2]")])
    sleeps: list[float] = []
    response = make_client(app, sleeps).send(method="GET", path="x", operation="Read", idempotent=True)
    assert response.json() == [1, 2]
    assert sleeps == [0.5]


def test_unavailable_write_is_not_sent_again() -> None:
    app = ScriptedHttpApp([(500, {}, "boom"), (200, {}, "{}")])
    sleeps: list[float] = []
    with pytest.raises(Unavailable) as raised:
        make_client(app, sleeps).send(method="POST", path="orders", operation="CreateOrder", idempotent=False)
    assert len(app.requests) == 1
    assert sleeps == []
    assert "HTTP 500" in str(raised.value)


@pytest.mark.parametrize(
    ("status", "error_class"),
    [(401, AuthenticationFailed), (403, AuthenticationFailed), (404, NotFound), (409, Rejected)],
)
def test_client_errors_map_to_the_taxonomy_without_retry(status: int, error_class: type[Exception]) -> None:
    app = ScriptedHttpApp([(status, {}, "nope")])
    sleeps: list[float] = []
    with pytest.raises(error_class):
        make_client(app, sleeps).send(method="GET", path="x", operation="Read", idempotent=True)
    assert len(app.requests) == 1
    assert sleeps == []


def test_rejected_carries_the_status_as_code() -> None:
    app = ScriptedHttpApp([(422, {}, "quantity too high")])
    with pytest.raises(Rejected) as raised:
        make_client(app, []).send(method="POST", path="x", operation="Order", idempotent=False)
    assert raised.value.code == "422"
    assert "quantity too high" in raised.value.message


def test_backoff_doubles_is_jittered_and_capped() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=0.25)
    assert [policy.backoff(attempt=n, random_fraction=0.0) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 3.0]
    assert policy.backoff(attempt=2, random_fraction=1.0) == 1.25
    assert policy.backoff(attempt=10, random_fraction=1.0) == 3.0


def test_each_attempt_is_logged_with_operation_status_and_timing(caplog: pytest.LogCaptureFixture) -> None:
    app = ScriptedHttpApp([(503, {}, "x"), (200, {}, "{}")])
    with caplog.at_level(logging.INFO, logger="marketplace.providers.http"):
        make_client(app, []).send(method="GET", path="x", operation="ListThings", idempotent=True)
    records = [record for record in caplog.records if getattr(record, "operation", None) == "ListThings"]
    assert [(record.status_code, record.attempt, record.levelno) for record in records] == [
        (503, 1, logging.WARNING),
        (200, 2, logging.INFO),
    ]
    assert all(isinstance(record.elapsed_ms, float) and record.elapsed_ms >= 0 for record in records)
    assert records[0].http_method == "GET"
    assert records[0].marketplace == "Example"


# -- real sockets -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_refused_connection_is_retried_even_for_a_write_because_nothing_was_sent() -> None:
    sleeps: list[float] = []
    client = ExampleClient(
        base_url=f"http://127.0.0.1:{_free_port()}/",
        retry_policy=RetryPolicy(max_attempts=3, base_delay=0.5, jitter=0.0),
        sleep=sleeps.append,
    )
    with pytest.raises(Unavailable) as raised:
        client.send(method="POST", path="orders", operation="CreateOrder", idempotent=False)
    assert sleeps == [0.5, 1.0]
    assert "ConnectError" in str(raised.value)


class _SlowApp:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.hits = 0
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        with self._lock:
            self.hits += 1
        time.sleep(self.delay)
        start_response("200 OK", [("Content-Type", "application/json")])
        return iter([b"{}"])


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture
def slow_server() -> Iterator[tuple[str, _SlowApp]]:
    from socketserver import ThreadingMixIn

    class Threading(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    app = _SlowApp(delay=0.4)
    server = make_server("127.0.0.1", 0, app, server_class=Threading, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/", app
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_write_that_timed_out_raises_unavailable_and_is_not_resent(slow_server: tuple[str, _SlowApp]) -> None:
    url, app = slow_server
    sleeps: list[float] = []
    client = ExampleClient(base_url=url, timeouts=Timeouts(read=0.1), sleep=sleeps.append)
    with pytest.raises(Unavailable) as raised:
        client.send(method="POST", path="orders", operation="CreateOrder", idempotent=False)
    assert "ReadTimeout" in str(raised.value)
    assert "may have been applied" in str(raised.value)
    assert app.hits == 1
    assert sleeps == []


def test_a_read_that_timed_out_is_retried(slow_server: tuple[str, _SlowApp]) -> None:
    url, app = slow_server
    sleeps: list[float] = []
    client = ExampleClient(
        base_url=url,
        timeouts=Timeouts(read=0.1),
        retry_policy=RetryPolicy(max_attempts=2, base_delay=0.5, jitter=0.0),
        sleep=sleeps.append,
    )
    with pytest.raises(Unavailable):
        client.send(method="POST", path="search", operation="Search", idempotent=True)
    deadline = time.monotonic() + 2
    while app.hits < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert app.hits == 2
    assert sleeps == [0.5]


# -- the error taxonomy survives Celery's pickling ---------------------------------------------------


def test_errors_pickle_with_their_attributes() -> None:
    throttled = pickle.loads(pickle.dumps(Throttled("slow down", retry_after=12.5, reference="A1")))
    assert (type(throttled), throttled.message, throttled.retry_after, throttled.reference) == (
        Throttled,
        "slow down",
        12.5,
        "A1",
    )
    rejected = pickle.loads(pickle.dumps(Rejected("invalid_Quantity", "too many")))
    assert (rejected.code, str(rejected)) == ("invalid_Quantity", "too many")
    unsupported = pickle.loads(pickle.dumps(Unsupported("no", capability=Capability.SUSPEND)))
    assert unsupported.capability is Capability.SUSPEND
    assert Throttled.retryable and Unavailable.retryable and not Rejected.retryable
