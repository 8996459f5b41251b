"""The one retry policy of the tasks that call marketplaces, with the waits each task had before."""

import pytest

from marketplace.providers.base import Throttled, Unavailable
from marketplace.retry import ORDER_RETRY, PROVISIONING_CHECKS, SYNC_RETRY, TaskRetryPolicy
from orders.placement import provisioning_check_countdown


@pytest.mark.parametrize("retries", range(6))
def test_a_sync_backs_off_from_30_seconds_with_a_quarter_of_jitter_and_no_cap(retries):
    wait = SYNC_RETRY.countdown(error=Unavailable("down"), retries=retries)
    assert 30 * 2**retries <= wait <= 30 * 2**retries * 1.25
    assert SYNC_RETRY.max_retries == 3


def test_a_throttled_sync_waits_what_the_marketplace_asks_however_long():
    assert SYNC_RETRY.countdown(error=Throttled(retry_after=5000), retries=0) == 5000


@pytest.mark.parametrize(("retries", "low"), [(0, 15), (2, 60), (6, 900), (10, 900)])
def test_an_order_backs_off_from_15_seconds_capped_at_15_minutes(retries, low):
    assert low <= ORDER_RETRY.countdown(error=Unavailable("down"), retries=retries) <= low * 1.25
    assert ORDER_RETRY.max_retries == 5


def test_a_throttled_order_waits_what_the_marketplace_asks_up_to_half_an_hour():
    assert ORDER_RETRY.countdown(error=Throttled(retry_after=300), retries=0) == 300
    assert ORDER_RETRY.countdown(error=Throttled(retry_after=7200), retries=0) == 1800
    assert ORDER_RETRY.countdown(error=Throttled(retry_after=1), retries=0) >= 15


def test_provisioning_checks_double_from_30_seconds_without_jitter_up_to_15_minutes():
    assert [provisioning_check_countdown(check) for check in (1, 2, 3, 5, 6, 10)] == [30, 60, 120, 480, 900, 900]
    assert PROVISIONING_CHECKS.max_retries == 10


def test_a_policy_without_jitter_waits_the_same_every_time():
    policy = TaskRetryPolicy(max_retries=1, base_seconds=2, jitter=0)
    assert {policy.countdown(error=Unavailable("down"), retries=3) for _ in range(20)} == {16}
