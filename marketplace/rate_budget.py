"""One request budget per marketplace account, in Redis, shared by every worker and every kind of call
(sync, orders, lifecycle actions).

A token bucket: `requests_per_second` refill it, up to `burst`. A request reserves the next slot
and waits until it comes (the bucket may go below zero: whoever reserves after waits longer, in
turn, so callers leave the bucket one by one instead of all together). A throttled answer
(`pause`) holds the whole account until the marketplace's Retry-After has passed; a caller that
would wait longer than `max_wait_seconds` for that raises `Throttled` instead, and its Celery task
waits the rest. Both are one Lua script each, run atomically by Redis on Redis' own clock, so
workers on different machines agree on the time.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import redis
from django.conf import settings
from django.db import connection

from marketplace.models import MarketplaceAccount
from marketplace.providers.base import Throttled
from marketplace.providers.registry import marketplaces

#: KEYS[1] the bucket; ARGV: refill per second, burst, the longest wait to reserve for, key lifetime,
#: how many slots to reserve. Returns {reserved (1 or 0), seconds until the bucket may be drawn from,
#: the tokens it holds then, seconds the account stays paused}, numbers as text (Redis would truncate a
#: Lua number to an integer). Slot i (from 0) may be used `start + max(0, i + 1 - tokens) / rate`
#: seconds from now.
_RESERVE = """
local rate, burst, max_wait, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local count = tonumber(ARGV[5])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'paused_until')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
local paused_until = tonumber(state[3]) or 0
local start = math.max(now, paused_until)
tokens = math.min(burst, tokens + math.max(0, start - at) * rate)
local paused = math.max(0, paused_until - now)
if paused > max_wait then
  return {0, tostring(start - now), tostring(tokens), tostring(paused)}
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - count), 'at', tostring(start))
redis.call('EXPIRE', KEYS[1], ttl)
return {1, tostring(start - now), tostring(tokens), tostring(paused)}
"""

#: KEYS[1] the bucket; ARGV: seconds to pause, key lifetime. Never shortens a longer pause.
_PAUSE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local until_ = now + tonumber(ARGV[1])
local current = tonumber(redis.call('HGET', KEYS[1], 'paused_until')) or 0
if until_ > current then
  redis.call('HSET', KEYS[1], 'paused_until', tostring(until_))
end
redis.call('EXPIRE', KEYS[1], math.max(tonumber(ARGV[2]), math.ceil(tonumber(ARGV[1])) + 60))
return tostring(math.max(until_, current) - now)
"""

#: KEYS[1] the bucket. Seconds the account stays paused (0 when it is not).
_PAUSED = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local paused_until = tonumber(redis.call('HGET', KEYS[1], 'paused_until')) or 0
return tostring(math.max(0, paused_until - now))
"""

#: An idle bucket is full again after burst / rate seconds; its key outlives that.
KEY_LIFETIME_SECONDS = 3600


@functools.cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


@functools.cache
def _scripts() -> tuple[object, object, object]:
    client = _redis()
    return client.register_script(_RESERVE), client.register_script(_PAUSE), client.register_script(_PAUSED)


@dataclass(eq=False)
class AccountRateBudget:
    """The `RequestGate` of one marketplace account (marketplace.providers.http). Safe to share between
    the threads of one provider."""

    key: str
    requests_per_second: float
    burst: int
    #: the longest a caller blocks for a pause before it raises `Throttled`
    max_wait_seconds: float = 30.0
    #: slots reserved per round trip to Redis (at most `burst`); 1 for a caller that sends a few requests
    reserve_ahead: int = 1
    #: reserved slots not handed out yet, as `time.monotonic()` moments they may be used from
    _slots: deque[float] = field(default_factory=deque, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def reserve(self) -> float:
        with self._lock:
            if not self._slots:
                self._slots.extend(self._reserve_slots(max(1, min(self.reserve_ahead, self.burst))))
            due = self._slots.popleft()
        return max(0.0, due - time.monotonic())

    def _reserve_slots(self, count: int) -> list[float]:
        reserve_script = _scripts()[0]
        reserved, start, tokens, paused = reserve_script(  # type: ignore[operator]
            keys=[self.key],
            args=[self.requests_per_second, self.burst, self.max_wait_seconds, KEY_LIFETIME_SECONDS, count],
        )
        if not int(reserved):
            seconds = float(paused)
            raise Throttled(
                f"The marketplace asked to wait {math.ceil(seconds)} s before the next request", retry_after=seconds
            )
        first, available, rate = time.monotonic() + float(start), float(tokens), self.requests_per_second
        return [first + max(0.0, slot + 1 - available) / rate for slot in range(count)]

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._slots.clear()  # slots reserved before the pause would send during it
        pause_script = _scripts()[1]
        pause_script(keys=[self.key], args=[max(0.0, seconds), KEY_LIFETIME_SECONDS])  # type: ignore[operator]

    def paused_for(self) -> float:
        """Seconds until the account may send again after a throttled answer (0 when it may now)."""
        paused_script = _scripts()[2]
        return max(0.0, float(paused_script(keys=[self.key])))  # type: ignore[operator]


def budget_key_prefix() -> str:
    """The start of every budget's Redis key (the cache's prefix keeps deployments sharing a Redis apart)."""
    return f"{settings.CACHES['default'].get('KEY_PREFIX', '')}:marketplace-budget"


def account_rate_budget(account: MarketplaceAccount, *, reserve_ahead: int = 1) -> AccountRateBudget:
    """The budget of an account of the active partner: its own rate when set, else its marketplace's.
    `reserve_ahead`: slots per round trip to Redis, for a caller that keeps that many requests in flight."""
    description = marketplaces().get(account.marketplace)
    rate = account.requests_per_second or (description.requests_per_second if description else 10.0)
    burst = description.request_burst if description else 10
    return AccountRateBudget(
        key=f"{budget_key_prefix()}:{connection.schema_name}:{account.pk}",
        requests_per_second=float(rate),
        burst=max(int(burst), math.ceil(rate)),
        reserve_ahead=reserve_ahead,
    )
