"""A sync lists its customers' subscriptions concurrently, within the account's request budget, which
every worker and every kind of call shares (marketplace.rate_budget)."""

import threading
import time
import uuid

import httpx
import pytest

from marketplace import sync
from marketplace.choices import SyncStatus, SyncTrigger
from marketplace.connections import override_provider_transport, provider_for_account
from marketplace.models import MarketplaceAccount, SyncRun
from marketplace.providers.base import Throttled
from marketplace.rate_budget import AccountRateBudget, account_rate_budget, budget_key_prefix
from marketplace.sync import sync_run_execute
from simulators.also import AlsoSimulator
from subscriptions.models import Subscription
from tests.factories.customers import CustomerTenantFactory
from tests.factories.marketplace import AccountFactory, budget_clear, connect

COMPANIES = 24


class InFlight(httpx.BaseTransport):
    """The simulator a little away: each answer takes `delay`; counts the requests in flight at once."""

    def __init__(self, inner: httpx.BaseTransport, *, delay: float = 0.05) -> None:
        self.inner = inner
        self.delay = delay
        self.now = 0
        self.most = 0
        self.operations: list[str] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.operations.append(request.url.path.rsplit("/", 1)[-1])
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            time.sleep(self.delay)
            return self.inner.handle_request(request)
        finally:
            with self._lock:
                self.now -= 1


@pytest.fixture
def many(in_alpha):
    """An ALSO account with COMPANIES companies of 3 subscriptions each, every one connected to a tenant."""
    simulator = AlsoSimulator()
    simulator.seed_bulk(companies=COMPANIES, subscriptions_per_company=3)
    transport = InFlight(httpx.WSGITransport(app=simulator))
    with override_provider_transport("also", transport, sleep=lambda seconds: None):
        account = AccountFactory(demo=True, display_name="ALSO Germany")
        provider = provider_for_account(account)
        companies = [record for record in provider.list_customers() if record.name.startswith("Bulk Customer")]
        provider.close()
        for company in companies:
            connect(account, CustomerTenantFactory(), company.external_id, company.name)
        yield account, simulator, transport


def run_sync(account: MarketplaceAccount) -> SyncRun:
    return sync_run_execute(run_id=SyncRun.objects.create(account=account, trigger=SyncTrigger.MANUAL).pk)


def test_a_sync_keeps_the_accounts_number_of_requests_in_flight_and_applies_what_a_one_at_a_time_sync_would(
    many, monkeypatch
):
    account, simulator, transport = many
    MarketplaceAccount.objects.filter(pk=account.pk).update(sync_concurrency=4)
    account.refresh_from_db()

    first = run_sync(account)

    assert first.status == SyncStatus.SUCCEEDED, first.error_message
    assert transport.most == 4  # never more than the account allows, and really that many at once
    assert first.counts["subscriptions"]["created"] == COMPANIES * 3
    # rows follow the connections' order, whatever answer came first
    tenants_in_row_order = list(
        Subscription.objects.filter(account=account).order_by("pk").values_list("customer_tenant_id", flat=True)
    )
    assert tenants_in_row_order == sorted(tenants_in_row_order)

    compared: list[str] = []
    real_plan = sync.mirror_plan
    monkeypatch.setattr(sync, "mirror_plan", lambda **kwargs: compared.append("x") or real_plan(**kwargs))
    for concurrency in (1, 8):
        MarketplaceAccount.objects.filter(pk=account.pk).update(sync_concurrency=concurrency)
        account.refresh_from_db()
        transport.most = 0
        again = run_sync(account)
        assert again.status == SyncStatus.SUCCEEDED
        if concurrency == 1:
            assert transport.most == 1
        else:
            assert 4 < transport.most <= 8
        # the same listing digests however many ran at once: nothing compared, nothing written
        assert again.mirror_digests == first.mirror_digests
        assert compared == [] and again.rows_written == 0


def test_the_subscriptions_are_listed_while_the_customers_and_offers_are_written(many, monkeypatch):
    account, simulator, transport = many
    MarketplaceAccount.objects.filter(pk=account.pk).update(sync_concurrency=4)
    account.refresh_from_db()
    listed_while_writing: list[int] = []
    real_sync_offers = sync.sync_offers

    def slow_sync_offers(**kwargs):
        time.sleep(1.5)  # a slow database: the listings go on meanwhile, 4 at a time, about 0.3 s in all
        listed_while_writing.append(transport.operations.count("GetSubscriptions"))
        return real_sync_offers(**kwargs)

    monkeypatch.setattr(sync, "sync_offers", slow_sync_offers)

    run = run_sync(account)

    assert run.status == SyncStatus.SUCCEEDED, run.error_message
    assert listed_while_writing == [COMPANIES]  # the threads went on to the next listings without waiting
    assert transport.most == 4
    assert run.counts["subscriptions"]["created"] == COMPANIES * 3
    # the subscriptions link the offers written meanwhile
    assert not Subscription.objects.filter(account=account, offer__isnull=True).exists()


def test_a_customer_the_marketplace_no_longer_knows_is_a_warning_in_its_place_and_the_others_are_synced(many):
    account, simulator, transport = many
    gone = CustomerTenantFactory(primary_domain="gone.onmicrosoft.com")
    connect(account, gone, "999999", "Gone GmbH")

    run = run_sync(account)

    assert run.status == SyncStatus.SUCCEEDED
    assert len(run.warnings) == 1 and "gone.onmicrosoft.com" in run.warnings[0]
    assert Subscription.objects.filter(account=account).count() == COMPANIES * 3
    assert set(run.mirror_digests) == {"customers", "offers"}  # not the whole listing: compared in full next time


def test_a_marketplace_failure_half_way_stops_the_fetch_and_writes_no_subscription(many, monkeypatch):
    account, simulator, transport = many
    simulator.inject(kind="unavailable", operation="GetSubscriptions", count=1000, status=503)

    run = run_sync(account)

    assert run.status == SyncStatus.FAILED and "503" in run.error_message
    assert not Subscription.objects.filter(account=account).exists()


@pytest.fixture
def budget():
    key = f"{budget_key_prefix()}:test:{uuid.uuid4().hex}"
    budget = AccountRateBudget(key=key, requests_per_second=10, burst=3)
    yield budget
    budget_clear(budget)


def test_the_budget_lets_a_burst_through_then_spaces_requests_at_its_rate(budget):
    waits = [budget.reserve() for _ in range(6)]

    assert waits[:3] == [0.0, 0.0, 0.0]
    assert [round(wait, 1) for wait in waits[3:]] == [0.1, 0.2, 0.3]  # each waits its turn, in the order asked


def test_slots_reserved_ahead_keep_the_rate_and_a_pause_drops_them(budget, monkeypatch):
    budget.reserve_ahead = 3
    round_trips: list[int] = []
    real_reserve_slots = AccountRateBudget._reserve_slots
    monkeypatch.setattr(
        AccountRateBudget,
        "_reserve_slots",
        lambda self, count: round_trips.append(count) or real_reserve_slots(self, count),
    )

    waits = [budget.reserve() for _ in range(6)]

    assert round_trips == [3, 3]  # one round trip to Redis per three requests
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert [round(wait, 1) for wait in waits[3:]] == [0.1, 0.2, 0.3]  # the same spacing as one at a time

    budget.reserve()  # takes three more slots
    budget.pause(10)
    assert 9 < budget.reserve() <= 10  # the slots reserved before the pause are not used during it
    assert round_trips == [3, 3, 3, 3]


def test_a_pause_holds_every_request_and_one_longer_than_a_caller_should_block_goes_back_to_the_queue(budget):
    budget.pause(10)
    assert 9 < budget.reserve() <= 10  # the next request waits the pause out

    budget.pause(120)
    with pytest.raises(Throttled) as raised:
        budget.reserve()
    assert 110 < raised.value.retry_after <= 120  # the task queue waits, not a blocked worker
    budget.pause(5)
    assert budget.paused_for() > 110  # a shorter pause never shortens a longer one


def test_a_throttled_answer_to_one_worker_pauses_the_account_for_the_others_and_only_that_account(in_alpha):
    simulator = AlsoSimulator()
    waits: list[float] = []
    with override_provider_transport("also", httpx.WSGITransport(app=simulator), sleep=waits.append):
        account = AccountFactory(demo=True, display_name="ALSO Germany")
        other = AccountFactory(demo=True, display_name="ALSO Austria", username="other@also.example")
        syncing, ordering = provider_for_account(account), provider_for_account(account)
        try:
            list(syncing.list_customers())
            simulator.inject(kind="throttle", operation="GetCompanies", count=1, retry_after=6)
            list(syncing.list_customers())  # answered 429, waited its Retry-After, asked again
            assert 6.0 in waits
            waits.clear()

            list(ordering.list_offers())  # another worker's provider of the same account

            assert waits and all(5 < wait <= 6 for wait in waits)  # each of its requests waited for the pause
            assert account_rate_budget(account).paused_for() > 5
            assert account_rate_budget(other).paused_for() == 0  # another account's budget is its own
        finally:
            syncing.close()
            ordering.close()
            budget_clear(account_rate_budget(account))
