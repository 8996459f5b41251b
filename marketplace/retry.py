"""How long a Celery task waits before it asks a marketplace again: one policy for every task.

Exponential backoff (`base_seconds` doubled per attempt, at most `max_seconds`) with up to a quarter
added at random, so retries of many tasks do not arrive together; a throttled call waits at least what
the marketplace asked (`Throttled.retry_after`), at most `throttled_max_seconds`. Only `Throttled` and
`Unavailable` are retried: a refusal cannot get better by waiting. Countdowns stay well below the
broker's visibility timeout (an hour), or Redis would deliver the task again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from marketplace.providers.base import ProviderError, Throttled


@dataclass(frozen=True, kw_only=True)
class TaskRetryPolicy:
    #: attempts after the first before the task gives up (Celery's `max_retries`)
    max_retries: int
    base_seconds: float
    #: the longest wait backoff alone reaches (None: no cap)
    max_seconds: float | None = None
    #: the longest wait a marketplace's Retry-After may ask for (None: as long as it asks)
    throttled_max_seconds: float | None = None
    #: the share of the wait added at random (0: the same wait every time)
    jitter: float = 0.25

    def delay(self, attempt: int) -> float:
        """The wait before attempt `attempt + 1` (0 for the first retry), without jitter."""
        wait = self.base_seconds * 2 ** max(attempt, 0)
        return wait if self.max_seconds is None else min(wait, self.max_seconds)

    def countdown(self, *, error: ProviderError, retries: int) -> float:
        """The wait before the next attempt of a task that has been retried `retries` times."""
        backoff = self.delay(retries)
        if self.jitter:
            backoff += random.uniform(0, backoff * self.jitter)
        if isinstance(error, Throttled):
            wait = max(backoff, error.retry_after)
            return wait if self.throttled_max_seconds is None else min(wait, self.throttled_max_seconds)
        return backoff


#: A throttled or unavailable sync run (marketplace.tasks.sync_account_run).
SYNC_RETRY = TaskRetryPolicy(max_retries=3, base_seconds=30)
#: A throttled or unavailable order placement (orders.tasks.order_place).
ORDER_RETRY = TaskRetryPolicy(max_retries=5, base_seconds=15, max_seconds=900, throttled_max_seconds=1800)
#: Asking about lines the marketplace is still provisioning: 10 checks over ~2 hours, no jitter
#: (orders.placement).
PROVISIONING_CHECKS = TaskRetryPolicy(max_retries=10, base_seconds=30, max_seconds=900, jitter=0)
