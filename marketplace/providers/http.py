"""One httpx client base for every marketplace client.

Retrying is where marketplace integrations buy twice, so the rule lives here once:
- throttling (429) is retried for every request, because a throttled request was refused, not
  applied; the wait honours Retry-After, and a Retry-After longer than the cap is raised at once
  as `Throttled` so the task queue, not a blocked worker, does the waiting;
- unavailability (5xx, read timeouts, dropped connections) is retried only for idempotent calls;
  a write that may have reached the marketplace raises `Unavailable` and is never re-sent here:
  the caller asks the marketplace whether it was applied first;
- a connection that could not be opened at all is retried for any call: nothing was sent.

Subclasses map their wire errors through `error_for_response`; the base owns timing, logging,
backoff and transport so tests can inject `httpx.WSGITransport(app=simulator)` and a fake sleep.

An account's requests share one budget (`RequestGate`) whoever sends them: a `GatedTransport` waits
for the budget's turn before each request, and a throttled answer pauses the whole budget for the
Retry-After, so every other request of the account (other threads, other workers) waits as well.
The client is safe to share between threads: httpx is, and what the sync digests is per thread
(`payload_scope`).
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol, Self, cast

import httpx
from prometheus_client import Counter

from marketplace.providers.base import (
    AuthenticationFailed,
    NotFound,
    PayloadDigest,
    ProviderError,
    Rejected,
    Throttled,
    Unavailable,
)

#: Marketplace calls that failed, by marketplace and HTTP status ("error": no answer), for /metrics.
MARKETPLACE_ERRORS = Counter(
    "console_marketplace_errors_total",
    "Marketplace calls answered with an error or not at all",
    ["marketplace", "status"],
)
logger = logging.getLogger("marketplace.providers.http")

SleepFunction = Callable[[float], None]


@dataclass(frozen=True, kw_only=True)
class Timeouts:
    connect: float = 5.0
    read: float = 30.0
    write: float = 30.0
    pool: float = 5.0

    def as_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """`max_attempts` counts the first try. `max_delay` caps any single wait, Retry-After included."""

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    jitter: float = 0.25
    default_retry_after: float = 8.0

    def backoff(self, *, attempt: int, random_fraction: float) -> float:
        """Exponential backoff for attempt 1, 2, ... plus up to `jitter` of itself, so clients that
        failed together do not come back together."""
        delay = self.base_delay * (2 ** (attempt - 1))
        return min(self.max_delay, delay * (1 + self.jitter * random_fraction))


class RequestGate(Protocol):
    """The request budget of one marketplace account, shared by everything that calls it."""

    def reserve(self) -> float:
        """Take the account's next request slot and say how many seconds to wait before sending it;
        raise `Throttled` when the account is paused for longer than a caller should block (the task
        queue waits instead)."""
        ...

    def pause(self, seconds: float) -> None:
        """The marketplace throttled the account: hold every request of it for `seconds`."""
        ...


class GatedTransport(httpx.BaseTransport):
    """A transport that waits for the account's turn (`RequestGate`) before every request it sends."""

    def __init__(self, inner: httpx.BaseTransport, *, gate: RequestGate, sleep: SleepFunction = time.sleep) -> None:
        self.inner = inner
        self.gate = gate
        self._sleep = sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        wait = self.gate.reserve()
        if wait > 0:
            self._sleep(wait)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


_UNSCOPED = object()


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date; anything else is ignored."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


class MarketplaceHttpClient:
    """Base class: subclasses set `marketplace_name` and implement `error_for_response`."""

    marketplace_name: ClassVar[str] = "marketplace"

    def __init__(
        self,
        *,
        base_url: str,
        transport: httpx.BaseTransport | None = None,
        timeouts: Timeouts | None = None,
        retry_policy: RetryPolicy | None = None,
        sleep: SleepFunction = time.sleep,
        random_fraction: Callable[[], float] = random.random,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.retry_policy = retry_policy or RetryPolicy()
        self._payload_digest: PayloadDigest | None = None
        self._scope = threading.local()
        #: the account's request budget, when the transport carries one: a throttled answer pauses it
        self.gate: RequestGate | None = transport.gate if isinstance(transport, GatedTransport) else None
        self._sleep = sleep
        self._random_fraction = random_fraction
        self._http = httpx.Client(
            base_url=base_url,
            transport=transport,
            timeout=(timeouts or Timeouts()).as_httpx(),
            headers={"Accept": "application/json", "User-Agent": "msp-console", **(headers or {})},
        )

    @property
    def payload_digest(self) -> PayloadDigest | None:
        """Set while the sync lists (`digest_payload`): each successful call's request and answer are
        fed to it. A sign-in is not, its token differs every time. Inside `payload_scope` the calls of
        that thread feed the scope's digest instead."""
        scoped = getattr(self._scope, "digest", _UNSCOPED)
        return self._payload_digest if scoped is _UNSCOPED else cast(PayloadDigest | None, scoped)

    @payload_digest.setter
    def payload_digest(self, digest: PayloadDigest | None) -> None:
        self._payload_digest = digest

    @contextmanager
    def payload_scope(self, digest: PayloadDigest | None) -> Iterator[None]:
        """While inside, what this thread's calls read feeds `digest` (nothing when None), not the
        client's `payload_digest`: calls made concurrently each feed their own digest, which the
        caller combines in an order of its choosing."""
        previous = getattr(self._scope, "digest", _UNSCOPED)
        self._scope.digest = digest
        try:
            yield
        finally:
            if previous is _UNSCOPED:
                del self._scope.digest
            else:
                self._scope.digest = previous

    @property
    def base_url(self) -> str:
        return str(self._http.base_url)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- hook -----------------------------------------------------------------------------------

    def error_for_response(self, *, response: httpx.Response, operation: str) -> ProviderError | None:
        """Map a response to the error taxonomy, or None when it is a success.

        The default understands plain HTTP; marketplaces whose faults hide in bodies override it.
        """
        if response.status_code < 400:
            return None
        if response.status_code == 429:
            return self.throttled_error(response=response, operation=operation)
        if response.status_code >= 500:
            return Unavailable(self.describe_failure(response=response, operation=operation))
        message = self.describe_failure(response=response, operation=operation)
        if response.status_code in (401, 403):
            return AuthenticationFailed(message)
        if response.status_code == 404:
            return NotFound(message)
        return Rejected(str(response.status_code), message)

    def throttled_error(self, *, response: httpx.Response, operation: str) -> Throttled:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return Throttled(
            f"{self.marketplace_name} throttled {operation}",
            retry_after=self.retry_policy.default_retry_after if retry_after is None else retry_after,
        )

    def describe_failure(self, *, response: httpx.Response, operation: str) -> str:
        snippet = " ".join(response.text.split())[:200]
        reason = response.reason_phrase or ""
        return (
            f"{self.marketplace_name} answered HTTP {response.status_code} {reason} to {operation}: {snippet}".strip()
        )

    # -- the one way out ----------------------------------------------------------------------------

    def send(
        self,
        *,
        method: str,
        path: str,
        operation: str,
        idempotent: bool,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        payload: bool = True,
    ) -> httpx.Response:
        """Send one logical call, retrying only what is safe to retry, and return a success response.

        `idempotent` is the caller's promise that sending the call twice changes nothing more than
        sending it once (reads, validations, logins). `payload` is False for a call whose answer
        is not marketplace data (a sign-in): it is kept out of the `payload_digest`.
        """
        policy = self.retry_policy
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                response = self._http.request(method, path, json=json_body, headers=headers)
            except httpx.TransportError as transport_error:
                elapsed_ms = (time.perf_counter() - started) * 1000
                never_sent = isinstance(transport_error, httpx.ConnectError | httpx.ConnectTimeout)
                self._log(method, operation, None, elapsed_ms, attempt, error=type(transport_error).__name__)
                unavailable = Unavailable(
                    f"{self.marketplace_name} {operation} failed: {type(transport_error).__name__}"
                    + ("" if never_sent or idempotent else " (the request may have been applied; not re-sent)")
                )
                if (never_sent or idempotent) and attempt < policy.max_attempts:
                    self._wait(policy.backoff(attempt=attempt, random_fraction=self._random_fraction()))
                    continue
                raise unavailable from transport_error

            elapsed_ms = (time.perf_counter() - started) * 1000
            self._log(method, operation, response.status_code, elapsed_ms, attempt)
            error = self.error_for_response(response=response, operation=operation)
            if error is None:
                if payload and self.payload_digest is not None:
                    _digest_exchange(self.payload_digest, response)
                return response
            if isinstance(error, Throttled) and self.gate is not None:
                self.gate.pause(error.retry_after)
            if attempt >= policy.max_attempts:
                raise error
            if isinstance(error, Throttled):
                if error.retry_after > policy.max_delay:
                    raise error
                self._wait(error.retry_after)
                continue
            if isinstance(error, Unavailable) and idempotent:
                self._wait(policy.backoff(attempt=attempt, random_fraction=self._random_fraction()))
                continue
            raise error

    def digest_page(self, response: httpx.Response, *, cursor: str | None) -> None:
        """Feed a page of a collection, read with `payload=False`, to the `payload_digest` without the
        cursor to the next page: a marketplace may make up a new one on every call (a continuation
        token), and a cursor is not data. Call it before handing out the page's items."""
        if self.payload_digest is not None:
            _digest_exchange(self.payload_digest, response, cursor=cursor)

    def _wait(self, seconds: float) -> None:
        self._sleep(seconds)

    def _log(
        self,
        method: str,
        operation: str,
        status_code: int | None,
        elapsed_ms: float,
        attempt: int,
        *,
        error: str | None = None,
    ) -> None:
        level = logging.INFO if status_code is not None and status_code < 400 else logging.WARNING
        if level == logging.WARNING:
            MARKETPLACE_ERRORS.labels(
                self.marketplace_name, str(status_code) if status_code is not None else "error"
            ).inc()
        logger.log(
            level,
            "%s %s %s -> %s in %.1f ms (attempt %d)",
            self.marketplace_name,
            method,
            operation,
            status_code if status_code is not None else error,
            elapsed_ms,
            attempt,
            extra={
                "marketplace": self.marketplace_name,
                "http_method": method,
                "operation": operation,
                "status_code": status_code,
                "elapsed_ms": round(elapsed_ms, 1),
                "attempt": attempt,
                "transport_error": error,
            },
        )


def _digest_exchange(digest: PayloadDigest, response: httpx.Response, *, cursor: str | None = None) -> None:
    """Feed what was asked and what was answered, the bodies as sent and received: hashing bytes costs
    a fraction of parsing them. The lengths go first, so no two exchanges feed the same bytes."""
    request = response.request
    asked, answered = request.content, response.content
    if cursor:
        answered = answered.replace(cursor.encode(), b"")
    digest.update(f"{request.method} {request.url} {len(asked)} {response.status_code} {len(answered)}\n".encode())
    digest.update(asked)
    digest.update(answered)
