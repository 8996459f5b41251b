"""What every marketplace simulator shares, whatever its wire format.

The ALSO, Partner Center, Cloudmore and ALEF simulators answer in different formats (XML faults,
JSON error envelopes, ProblemDetails), but the harness around them is the same: a simulated clock
tests move forward, failures armed per operation (latency, throttling, outages, expired
credentials), call counts, and the `/_control/` endpoint that drives all of it over HTTP.
`MarketplaceSimulator` holds that harness. Each simulator keeps what is its own: its injection
kinds and how it answers them, its state, its extra seed kinds and control actions (added through
`_control_seeds`, `_control_actions`, `_control_reads`).

Standard library only, like the rest of the provider packages.
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from http import HTTPStatus
from typing import Any, ClassVar, Generic, Protocol, TypeVar
from urllib.parse import parse_qs

from simulators.identity import RemoteDirectories, SeededDomains

# ------------------------------------------------------------------------------------------------
# Failure injection and the harness
# ------------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class Injection:
    """A failure (or a delay) armed for the next `remaining` calls of `operation` (of any call when None).

    Each simulator subclasses it with its own error fields and default message.
    """

    kind: str
    operation: str | None
    remaining: int
    message: str
    status: int = 503
    retry_after: float = 3.0
    seconds: float = 0.0
    #: answer the failure after the call was applied (the client cannot tell whether it happened)
    apply_first: bool = False

    def matches(self, operation: str) -> bool:
        return self.remaining > 0 and (self.operation is None or self.operation == operation)


InjectionT = TypeVar("InjectionT", bound=Injection)
ControlAction = Callable[[dict[str, Any]], None]


class MarketplaceSimulator(Generic[InjectionT]):
    """The harness of a simulated marketplace: clock, injected failures, call counts, control endpoint.

    A subclass sets `injection_kinds`, implements `_clear_state`, `seed_demo`, `state` and `inject`
    (its own injection fields), and answers its injected failures in its own wire format.
    """

    injection_kinds: ClassVar[frozenset[str]]
    #: The sign-in operation and the injection kind that spares it: a sign-in has no session to expire.
    sign_in_operation: ClassVar[str] = ""
    session_expiry_kind: ClassVar[str] = ""
    #: The simulator's own errors a control request can raise; answered 400 like a bad value.
    control_errors: ClassVar[tuple[type[Exception], ...]] = ()

    def __init__(self, *, clock: Callable[[], datetime], sleep: Callable[[float], None]) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.RLock()

    # -- state --------------------------------------------------------------------------------------

    def reset(self, *, seed: bool = True) -> None:
        with self._lock:
            self._clock_offset = timedelta()
            self._injections: list[InjectionT] = []
            self.call_counts: Counter[str] = Counter()
            self._clear_state()
            if seed:
                self.seed_demo()

    def _clear_state(self) -> None:
        """Empty the simulator's own state (called by `reset`, under the lock)."""
        raise NotImplementedError

    def seed_demo(self) -> None:
        raise NotImplementedError

    def state(self) -> dict[str, Any]:
        raise NotImplementedError

    # -- the simulated clock ------------------------------------------------------------------------

    def now(self) -> datetime:
        return self._clock() + self._clock_offset

    def advance_clock(self, *, seconds: float) -> None:
        with self._lock:
            self._clock_offset += timedelta(seconds=seconds)

    def clock_advance(self, seconds: float) -> None:
        """The convention every marketplace simulator shares: move simulated time forward."""
        self.advance_clock(seconds=seconds)

    def _expire(self, credentials: Iterable[Any]) -> None:
        """Every one of these tokens or sessions expired a second ago (call under the lock)."""
        for credential in credentials:
            credential.expires_at = self.now() - timedelta(seconds=1)

    # -- failure injection --------------------------------------------------------------------------

    def inject(self, *, kind: str, **options: Any) -> None:
        """Make the next matching calls fail (or slow down) the given way."""
        raise NotImplementedError

    def _check_injection_kind(self, kind: str) -> None:
        if kind not in self.injection_kinds:
            raise ValueError(f"Unknown injection kind {kind!r}; known: {sorted(self.injection_kinds)}")

    def _arm(self, injection: InjectionT, *, message: str | None) -> None:
        if message is not None:
            injection.message = message
        with self._lock:
            self._injections.append(injection)

    def clear_injections(self) -> None:
        with self._lock:
            self._injections.clear()

    def _pending_injections(self) -> list[dict[str, Any]]:
        return [
            {"kind": injection.kind, "operation": injection.operation, "remaining": injection.remaining}
            for injection in self._injections
            if injection.remaining > 0
        ]

    def _count_call(self, operation: str) -> None:
        """Count the call and wait out the latency injected for it."""
        with self._lock:
            self.call_counts[operation] += 1
        for delay in self._take_latency(operation):
            self._sleep(delay)

    def _take_latency(self, operation: str) -> list[float]:
        with self._lock:
            delays = []
            for injection in self._injections:
                if injection.kind == "latency" and injection.matches(operation):
                    injection.remaining -= 1
                    delays.append(injection.seconds)
            return delays

    def _take_injection(self, operation: str) -> InjectionT | None:
        """The first failure armed for this call, used up by one."""
        with self._lock:
            for injection in self._injections:
                if injection.kind != "latency" and injection.matches(operation):
                    if injection.kind == self.session_expiry_kind and operation == self.sign_in_operation:
                        continue
                    injection.remaining -= 1
                    return injection
            return None

    # -- the control endpoint -----------------------------------------------------------------------

    def _control(
        self, action: str, method: str, environ: Mapping[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        status, body = self._control_answer(action, method, read_body(environ))
        return respond(start_response, status, json_bytes(body), "application/json")

    def _control_answer(self, action: str, method: str, raw_body: bytes) -> tuple[int, Any]:
        """`/_control/<action>` as (status, JSON body): reads answer GET, everything else is a POST."""
        read = self._control_reads().get(action) if method == "GET" else None
        if read is not None:
            return 200, read()
        if method != "POST":
            return 405, {"error": "use POST"}
        try:
            body = self._control_body(raw_body)
            perform = self._control_actions().get(action)
            if perform is None:
                return 404, {"error": f"unknown action {action}"}
            perform(body)
        except (ValueError, TypeError, KeyError, *self.control_errors) as error:
            return 400, {"error": str(error)}
        return 200, {"ok": True, "state": self.state()}

    def _control_reads(self) -> dict[str, Callable[[], Any]]:
        return {"state": self.state}

    def _control_actions(self) -> dict[str, ControlAction]:
        return {
            "reset": lambda body: self.reset(seed=bool(body.get("seed", True))),
            "seed": self._control_seed,
            "inject": lambda body: self.inject(kind=str(body.get("kind")), **_without(body, "kind")),
            "clear": lambda body: self.clear_injections(),
            "advance_clock": lambda body: self.advance_clock(seconds=float(body["seconds"])),
        }

    def _control_seeds(self) -> dict[str, ControlAction]:
        return {"demo": lambda body: self.seed_demo()}

    def _control_seed(self, body: dict[str, Any]) -> None:
        kind = body.get("kind", "demo")
        seed = self._control_seeds().get(kind) if isinstance(kind, str) else None
        if seed is None:
            raise ValueError(f"unknown seed kind {kind!r}")
        seed(body)

    def _control_body(self, raw_body: bytes) -> dict[str, Any]:
        body = self._control_json(raw_body)
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        return body

    def _control_json(self, raw_body: bytes) -> Any:
        return json.loads(raw_body) if raw_body.strip() else {}


def _without(body: Mapping[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != name}


# ------------------------------------------------------------------------------------------------
# WSGI and wire helpers
# ------------------------------------------------------------------------------------------------


@dataclass
class SimulatedRequest:
    """An API request as the simulators read it; each adds what its routing finds out."""

    method: str
    path: str
    query: dict[str, str]
    environ: Mapping[str, Any]
    raw_body: bytes

    def header(self, name: str) -> str | None:
        value = self.environ.get("HTTP_" + name.upper().replace("-", "_"))
        return str(value) if value else None


def read_body(environ: Mapping[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


def lowercase_query(environ: Mapping[str, Any]) -> dict[str, str]:
    """The query string, names lower-cased, the last value of a repeated name winning."""
    return {key.lower(): values[-1] for key, values in parse_qs(environ.get("QUERY_STRING", "")).items()}


def decode_json_object(raw_body: bytes, error: Callable[[str], Exception]) -> dict[str, Any]:
    """A request body as a JSON object (numbers with a fraction as Decimal); `error` builds the refusal."""
    if not raw_body.strip():
        return {}
    try:
        body = json.loads(raw_body, parse_float=Decimal)
    except ValueError:
        raise error("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise error("The request body must be a JSON object.")
    return body


def bearer_token(environ: Mapping[str, Any]) -> str | None:
    scheme, _, value = str(environ.get("HTTP_AUTHORIZATION") or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Prices have at most two decimals, which a float's shortest repr reproduces exactly;
        # clients decode JSON numbers back into Decimal.
        return float(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, default=_json_default, ensure_ascii=False).encode()


def respond(
    start_response: Callable[..., Any],
    status: int,
    body: bytes,
    content_type: str,
    extra_headers: list[tuple[str, str]] | None = None,
) -> Iterator[bytes]:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body))), *(extra_headers or [])]
    start_response(f"{status} {reason}", headers)
    return iter([body])


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later, or the month's last day when it is shorter."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


# ------------------------------------------------------------------------------------------------
# Command line
# ------------------------------------------------------------------------------------------------


class DomainRegistry(Protocol):
    """Microsoft Online's one namespace of domains, which every marketplace simulator consults before it
    creates a tenant and tells about each one it creates. The identity simulator is the authority: in
    process it is a `MicrosoftSimulator` handed to each marketplace simulator (tests), as its own server
    a `RemoteDirectories` (`--identity-url`, `./dev up`); started alone from the command line, the
    seeded directories' domains (`SeededDomains`); built in a test without one, only its own tenants.
    All in `simulators/identity.py`."""

    def domain_registered(self, domain: str) -> bool: ...

    def domain_register(self, *, domain: str, tenant_id: str, name: str) -> None: ...


def domain_registry_from(url: str | None) -> DomainRegistry:
    """The registry a simulator started from the command line uses: the identity simulator at `url`
    (default `MICROSOFT_SIMULATOR_URL`), else the seeded directories' domains."""
    url = url or os.environ.get("MICROSOFT_SIMULATOR_URL")
    return RemoteDirectories(url) if url else SeededDomains()


def simulator_arguments(*, description: str, port: int) -> argparse.ArgumentParser:
    """The options every simulator's `python -m ...simulator` takes; each adds its bulk-seed options."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--no-seed", action="store_true", help="start empty instead of with the demo data")
    parser.add_argument(
        "--identity-url",
        default=None,
        help="the identity simulator that holds Microsoft Online's domains (default: MICROSOFT_SIMULATOR_URL)",
    )
    return parser
