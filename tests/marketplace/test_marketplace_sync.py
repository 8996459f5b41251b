"""The sync engine against the ALSO simulator: creates, writes nothing when nothing changed,
updates only what changed, removes what vanished, retries and fails visibly, never runs twice at once;
skips comparing what neither the marketplace nor anyone here changed since the last good sync."""

import functools
import hashlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import psycopg2
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Offer
from marketplace import sync
from marketplace.choices import AccountStatus, SyncErrorKind, SyncPhase, SyncStatus, SyncTrigger
from marketplace.models import MarketplaceCustomer, SyncRun, TenantConnection
from marketplace.providers.alef import adapter as alef_adapter
from marketplace.providers.alef.client import AlefClient
from marketplace.providers.partner_center.adapter import PartnerCenterProvider
from marketplace.retry import SYNC_RETRY
from marketplace.secrets import secret_encrypt
from marketplace.services import sync_run_request, sync_runs_schedule_due, sync_slot
from marketplace.sync import SYNC_LOCK, sync_run_execute
from marketplace.tasks import sync_account_run, sync_due_accounts
from portal.audit.models import AuditEvent, Notification
from portal.core.locks import advisory_lock_key
from simulators.alef import DEMO_CONNECTION as ALEF_DEMO
from simulators.also import TENANT_SERVICE
from simulators.partner_center import DEMO_CONNECTION as PARTNER_CENTER_DEMO
from subscriptions.models import Subscription
from tests.factories.customers import CustomerTenantFactory
from tests.factories.marketplace import AccountFactory, company_id, connect

E3 = "1429492_NCEMicros365E3_12907"
BASIC = "1429494_NCEMicros365BusinessBasic_12909"


@pytest.fixture
def account(in_alpha, simulator):
    return AccountFactory(demo=True, display_name="ALSO Germany")


@pytest.fixture
def contoso(account, simulator):
    tenant = CustomerTenantFactory(customer__name="Contoso", primary_domain="contoso.onmicrosoft.com")
    connect(account, tenant, company_id(simulator, "Contoso GmbH"), "Contoso GmbH")
    return tenant


@pytest.fixture
def fabrikam(account, simulator):
    tenant = CustomerTenantFactory(customer__name="Fabrikam", primary_domain="fabrikam.onmicrosoft.com")
    connect(account, tenant, company_id(simulator, "Fabrikam AG"), "Fabrikam AG")
    return tenant


def run_sync(account, trigger=SyncTrigger.MANUAL) -> SyncRun:
    run = SyncRun.objects.create(account=account, trigger=trigger)
    return sync_run_execute(run_id=run.pk)


def writes(queries) -> list[str]:
    """INSERT / UPDATE / DELETE statements other than the sync run's own row."""
    return [
        query["sql"]
        for query in queries
        if query["sql"].lstrip().split(" ", 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}
        and "marketplace_syncrun" not in query["sql"]
    ]


def rows_written() -> dict[str, int]:
    """Rows inserted, updated or deleted so far in this transaction (the test's), per table, as PostgreSQL
    counts them: COPY and statements alike."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables "
            "WHERE schemaname = current_schema() AND relname <> 'marketplace_syncrun'"
        )
        return {table: count for table, count in cursor.fetchall() if count}


def written_between(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {table: count - before.get(table, 0) for table, count in after.items() if count != before.get(table, 0)}


def test_the_first_sync_creates_customers_plans_and_the_connected_tenants_subscriptions(account, contoso, fabrikam):
    run = run_sync(account)

    assert run.status == SyncStatus.SUCCEEDED, run.error_message
    assert run.phase == SyncPhase.DONE
    assert run.duration is not None and run.duration >= timedelta(0)
    assert run.counts["customers"] == {"created": 8, "updated": 0, "unchanged": 0, "removed": 0}
    assert run.counts["offers"]["created"] == Offer.objects.filter(account=account).count() > 10
    assert run.counts["subscriptions"] == {"created": 4, "updated": 0, "unchanged": 0, "removed": 0}
    assert MarketplaceCustomer.objects.filter(account=account).count() == 8

    e3 = Subscription.objects.get(customer_tenant=contoso, product_id=E3)
    assert e3.quantity == 25
    assert e3.status == "active"
    assert e3.billing_cycle == "annual"
    assert e3.offer is not None and e3.offer.cost_price == Decimal("363.96")
    assert e3.unit_cost_price == Decimal("363.96")
    assert [add_on["quantity"] for add_on in e3.add_ons] == [10]
    assert set(Subscription.objects.filter(customer_tenant=fabrikam).values_list("quantity", flat=True)) == {40, 5}
    # only connected tenants' subscriptions are mirrored, and the tenant account is not a licence
    assert not Subscription.objects.filter(product_id=TENANT_SERVICE).exists()
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE


def test_a_second_sync_with_nothing_changed_writes_no_rows(account, contoso, fabrikam):
    run_sync(account)
    before = rows_written()

    with CaptureQueriesContext(connection) as captured:
        second = run_sync(account)

    assert second.status == SyncStatus.SUCCEEDED
    assert writes(captured.captured_queries) == []
    assert written_between(before, rows_written()) == {}
    assert second.rows_written == 0
    assert second.counts["subscriptions"] == {"created": 0, "updated": 0, "unchanged": 4, "removed": 0}
    assert second.counts["customers"]["unchanged"] == 8


def test_changed_data_updates_only_what_changed(account, contoso, fabrikam, simulator):
    run_sync(account)
    e3 = Subscription.objects.get(customer_tenant=contoso, product_id=E3)
    untouched = Subscription.objects.get(customer_tenant=contoso, product_id=BASIC)
    untouched_stamp = untouched.updated
    simulator.subscriptions[int(e3.external_id)].fields["Quantity"] = 30
    before = rows_written()

    with CaptureQueriesContext(connection) as captured:
        run = run_sync(account)

    assert run.counts["subscriptions"] == {"created": 0, "updated": 1, "unchanged": 3, "removed": 0}
    assert run.counts["customers"]["updated"] == 0 and run.counts["offers"]["updated"] == 0
    statements = writes(captured.captured_queries)
    assert len(statements) == 2  # the one bulk UPDATE of subscriptions, and the audit event of the sync
    assert any(sql.startswith("UPDATE") and "subscriptions_subscription" in sql for sql in statements)
    written = written_between(before, rows_written())
    assert written["subscriptions_subscription"] == 1 and written["audit_auditevent"] == 1
    assert set(written) <= {"subscriptions_subscription", "audit_auditevent", "sync_subscriptions_subscription"}
    e3.refresh_from_db()
    untouched.refresh_from_db()
    assert e3.quantity == 30
    assert untouched.updated == untouched_stamp
    assert AuditEvent.objects.filter(action="marketplace.account.sync", target_id=str(account.pk)).count() == 2


def test_what_vanished_at_the_marketplace_is_removed(account, contoso, simulator):
    run_sync(account)
    basic = Subscription.objects.get(customer_tenant=contoso, product_id=BASIC)
    company = int(company_id(simulator, "Contoso GmbH"))
    simulator._subscriptions_by_parent[company].remove(int(basic.external_id))
    del simulator.subscriptions[int(basic.external_id)]
    alpine = int(company_id(simulator, "Alpine Ski House e.U."))
    simulator._companies_by_parent[simulator.companies[alpine].parent_account_id].remove(alpine)

    run = run_sync(account)

    assert run.counts["subscriptions"]["removed"] == 1
    assert run.counts["customers"]["removed"] == 1
    assert not Subscription.objects.filter(pk=basic.pk).exists()
    assert not MarketplaceCustomer.objects.filter(account=account, external_id=str(alpine)).exists()


def test_a_plan_the_marketplace_stops_listing_is_kept_as_unavailable_until_it_returns(account, simulator):
    run_sync(account)
    legacy_service = simulator.catalog.pop("103714_ExchangeOnlinePlan1Oct2015_80666")

    run = run_sync(account)

    legacy = Offer.objects.get(account=account, product_id="103714_ExchangeOnlinePlan1Oct2015_80666")
    assert legacy.is_available is False
    assert run.counts["offers"]["removed"] == 1
    assert run_sync(account).counts["offers"]["removed"] == 0  # flagged once, not every sync

    simulator.catalog[legacy_service.name] = legacy_service
    back = run_sync(account)

    legacy.refresh_from_db()
    assert legacy.is_available is True
    assert back.counts["offers"]["updated"] == 1
    assert run_sync(account).counts["offers"] == {
        "created": 0,
        "updated": 0,
        "unchanged": back.counts["offers"]["unchanged"] + 1,
        "removed": 0,
    }


def test_429_with_retry_after_is_honoured_during_the_sync(account, contoso, simulator, sleeps):
    simulator.inject(kind="throttle", operation="GetSubscriptions", count=1, retry_after=3)

    run = run_sync(account)

    assert run.status == SyncStatus.SUCCEEDED
    assert 3.0 in sleeps
    assert Subscription.objects.filter(customer_tenant=contoso).count() == 2


def test_a_long_retry_after_goes_back_to_the_task_queue_and_the_retry_succeeds(
    account, contoso, simulator, django_capture_on_commit_callbacks, eager_retries, retries_outlast_pauses
):
    simulator.inject(kind="throttle", operation="GetCompanies", count=1, retry_after=120)

    with django_capture_on_commit_callbacks(execute=True):
        run = sync_run_request(actor=None, account=account, trigger=SyncTrigger.SCHEDULE)

    run.refresh_from_db()
    assert run.status == SyncStatus.SUCCEEDED
    assert run.attempts == 2
    [(countdown, paused)] = retries_outlast_pauses
    assert countdown >= 120
    assert paused > 110  # the throttle paused the whole account, not only the request it answered


def test_5xx_is_retried_then_the_run_fails_with_the_message_the_account_fails_and_admins_are_told(
    account, contoso, simulator, sleeps, django_capture_on_commit_callbacks, eager_retries
):
    simulator.inject(kind="unavailable", operation="GetCompanies", count=1000, status=503)

    with django_capture_on_commit_callbacks(execute=True):
        run = sync_run_request(actor=None, account=account, trigger=SyncTrigger.SCHEDULE)

    run.refresh_from_db()
    account.refresh_from_db()
    assert run.status == SyncStatus.FAILED
    assert run.attempts == SYNC_RETRY.max_retries + 1
    assert "503" in run.error_message and "GetCompanies" in run.error_message
    assert run.error_kind == SyncErrorKind.UNAVAILABLE and run.marketplace_message == run.error_message
    assert simulator.call_counts["GetCompanies"] == 4 * (SYNC_RETRY.max_retries + 1)  # the client retried each attempt
    assert len(sleeps) >= 3
    assert account.status == AccountStatus.FAILING
    assert "503" in account.status_message
    notification = Notification.objects.get(recipient__username="admin")
    assert "ALSO Germany" in notification.title
    assert "503" in notification.body
    assert AuditEvent.objects.filter(action="marketplace.account.sync", result="failure").exists()


def test_wrong_stored_credentials_fail_at_once_without_retrying(account, simulator, django_capture_on_commit_callbacks):
    simulator.users["demo@also.example"].password = "changed-at-also"

    with django_capture_on_commit_callbacks(execute=True):
        run = sync_run_request(actor=None, account=account, trigger=SyncTrigger.SCHEDULE)

    run.refresh_from_db()
    assert run.status == SyncStatus.FAILED
    assert run.attempts == 1
    assert "check your username and password" in run.error_message
    assert run.error_kind == SyncErrorKind.AUTHENTICATION


def test_a_failing_account_is_active_again_after_a_good_sync(account, simulator):
    simulator.inject(kind="unavailable", operation="GetCompanies", count=4)
    assert run_sync(account).status == SyncStatus.FAILED
    account.refresh_from_db()
    assert account.status == AccountStatus.FAILING

    assert run_sync(account).status == SyncStatus.SUCCEEDED
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE
    assert account.status_message == ""


def test_two_syncs_of_one_account_never_run_at_once(account, contoso):
    parameters = connection.get_connection_params()
    other = psycopg2.connect(**{key: value for key, value in parameters.items() if key != "cursor_factory"})
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [advisory_lock_key(SYNC_LOCK, account.pk)])
        blocked = run_sync(account)
        assert blocked.status == SyncStatus.SKIPPED
        assert "Another sync" in blocked.error_message
        assert not Subscription.objects.exists()
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [advisory_lock_key(SYNC_LOCK, account.pk)])
    finally:
        other.close()
    assert run_sync(account).status == SyncStatus.SUCCEEDED


def test_sync_now_twice_is_one_sync(account):
    first = sync_run_request(actor=None, account=account, trigger=SyncTrigger.MANUAL)
    second = sync_run_request(actor=None, account=account, trigger=SyncTrigger.MANUAL)

    assert first.pk == second.pk
    assert SyncRun.objects.filter(account=account).count() == 1


def test_a_finished_run_is_not_run_again(account, simulator):
    run = run_sync(account)
    calls = sum(simulator.call_counts.values())

    again = sync_run_execute(run_id=run.pk)

    assert again.status == SyncStatus.SUCCEEDED
    assert sum(simulator.call_counts.values()) == calls


def test_beat_syncs_accounts_whose_slot_has_come_since_their_last_sync(account, django_capture_on_commit_callbacks):
    other = AccountFactory(
        demo=True, display_name="Slow account", username="other@also.example", sync_interval_minutes=60
    )
    now = timezone.now()
    schema = connection.schema_name
    slot = sync_slot(schema_name=schema, account_id=account.pk, interval_minutes=15, now=now)
    other_slot = sync_slot(schema_name=schema, account_id=other.pk, interval_minutes=60, now=now)
    SyncRun.objects.filter(pk=run_sync(account).pk).update(created=slot - timedelta(seconds=1))
    SyncRun.objects.create(account=other, trigger=SyncTrigger.SCHEDULE, status=SyncStatus.SUCCEEDED)
    SyncRun.objects.filter(account=other).update(created=other_slot + timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=True):
        queued = sync_due_accounts()

    assert queued == 1
    latest = SyncRun.objects.filter(account=account).order_by("-created").first()
    assert latest.trigger == SyncTrigger.SCHEDULE
    assert latest.status == SyncStatus.SUCCEEDED
    assert SyncRun.objects.filter(account=other).count() == 1


def test_beat_never_queues_a_second_sync_of_an_account_whose_sync_is_queued_or_running(account):
    running = SyncRun.objects.create(account=account, trigger=SyncTrigger.MANUAL, status=SyncStatus.RUNNING)
    later = timezone.now() + timedelta(hours=1)  # a slot has come since, but the sync still runs

    assert sync_runs_schedule_due(now=later) == []
    assert sync_run_request(actor=None, account=account, trigger=SyncTrigger.SCHEDULE) == running
    assert SyncRun.objects.filter(account=account).count() == 1


def test_at_a_thousand_partners_beat_spreads_the_hourly_syncs_over_the_hour_and_starts_each_once_an_hour():
    """Beat ticks every minute; every partner's accounts are asked whether their slot has come."""
    accounts = [(f"partner_{number:04d}", account_id) for number in range(1000) for account_id in (1, 2)]
    last_queued: dict[tuple[str, int], datetime] = {}
    started = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    per_minute = []
    for minute in range(3 * 60):
        now = started + timedelta(minutes=minute)
        due = [
            key
            for key in accounts
            if key not in last_queued
            or last_queued[key] < sync_slot(schema_name=key[0], account_id=key[1], interval_minutes=60, now=now)
        ]
        for key in due:
            last_queued[key] = now
        per_minute.append(len(due))

    assert per_minute[0] == len(accounts)  # the first tick after a restart catches up on every account once
    steady = per_minute[60:]  # from then on each account syncs on its own minute of the hour
    assert sum(steady) == 2 * len(accounts)  # each exactly once an hour
    assert min(steady) > 0  # every minute of the hour has some
    assert max(steady) <= 3 * len(accounts) / 60  # and none more than three times its share


def test_an_abandoned_run_stops_blocking_new_syncs(account):
    stuck = SyncRun.objects.create(account=account, trigger=SyncTrigger.SCHEDULE, status=SyncStatus.RUNNING)
    SyncRun.objects.filter(pk=stuck.pk).update(created=timezone.now() - timedelta(hours=3))

    queued = sync_runs_schedule_due()

    stuck.refresh_from_db()
    assert stuck.status == SyncStatus.FAILED
    assert len(queued) == 1 and queued[0].pk != stuck.pk


def test_the_task_is_registered_for_beat():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["partners-marketplace-sync"]
    assert entry["task"] == "portal.core.tasks.dispatch_to_partners"
    assert entry["args"] == ("marketplace.tasks.sync_due_accounts",)
    assert entry["schedule"] == 60
    assert sync_account_run.name == "marketplace.tasks.sync_account_run"


def test_text_with_tabs_newlines_and_backslashes_is_stored_as_the_marketplace_sent_it(account, simulator):
    odd = "Tab\there, new\nline, back\\slash, Ümlaut GmbH"
    contoso = next(company for company in simulator.companies.values() if company.name == "Contoso GmbH")
    contoso.name = odd
    contoso.domains = ["back\\slash.example", "tab\t.example"]

    run_sync(account)

    stored = MarketplaceCustomer.objects.get(account=account, external_id=str(contoso.account_id))
    assert stored.name == odd
    assert stored.domains == ["back\\slash.example", "tab\t.example"]
    assert run_sync(account).counts["customers"]["unchanged"] == 8


# -- skipping what did not change ----------------------------------------------------------------------------------

CUSTOMERS, OFFERS, SUBSCRIPTIONS = "marketplace.MarketplaceCustomer", "catalog.Offer", "subscriptions.Subscription"


@pytest.fixture
def compares(monkeypatch) -> list[str]:
    """The kinds (models) the syncs compared row by row; a kind skipped as unchanged is not in it."""
    compared: list[str] = []
    real = sync.mirror_plan

    def spy(**kwargs):
        compared.append(kwargs["existing"].model._meta.label)
        return real(**kwargs)

    monkeypatch.setattr(sync, "mirror_plan", spy)
    return compared


def test_a_repeat_sync_with_nothing_changed_compares_nothing_and_counts_every_row_unchanged(
    account, contoso, fabrikam, compares
):
    first = run_sync(account)
    compares.clear()
    before = rows_written()

    with CaptureQueriesContext(connection) as captured:
        second = run_sync(account)

    assert second.status == SyncStatus.SUCCEEDED
    assert compares == []
    assert writes(captured.captured_queries) == []
    assert written_between(before, rows_written()) == {}
    assert second.counts == {
        kind: {"created": 0, "updated": 0, "unchanged": counts["created"], "removed": 0}
        for kind, counts in first.counts.items()
    }
    assert second.counts["subscriptions"]["unchanged"] == 4
    assert second.mirror_digests == first.mirror_digests


def test_a_change_at_the_marketplace_after_a_skipped_sync_is_written(account, contoso, simulator, compares):
    run_sync(account)
    run_sync(account)
    e3 = Subscription.objects.get(customer_tenant=contoso, product_id=E3)
    simulator.subscriptions[int(e3.external_id)].fields["Quantity"] = 31
    compares.clear()

    run = run_sync(account)

    assert compares == [SUBSCRIPTIONS]  # customers and plans were listed as before
    assert run.counts["subscriptions"] == {"created": 0, "updated": 1, "unchanged": 1, "removed": 0}
    e3.refresh_from_db()
    assert e3.quantity == 31
    assert run_sync(account).counts["subscriptions"] == {"created": 0, "updated": 0, "unchanged": 2, "removed": 0}


def test_rows_deleted_here_are_restored_although_the_marketplace_lists_the_same(account, contoso, compares):
    run_sync(account)
    run_sync(account)
    Subscription.objects.filter(customer_tenant=contoso, product_id=BASIC).delete()
    MarketplaceCustomer.objects.filter(account=account, name="Contoso GmbH").delete()
    compares.clear()

    run = run_sync(account)

    assert compares == [CUSTOMERS, SUBSCRIPTIONS]
    assert run.counts["customers"] == {"created": 1, "updated": 0, "unchanged": 7, "removed": 0}
    assert run.counts["subscriptions"] == {"created": 1, "updated": 0, "unchanged": 1, "removed": 0}
    assert Subscription.objects.filter(customer_tenant=contoso, product_id=BASIC).exists()
    assert MarketplaceCustomer.objects.filter(account=account, name="Contoso GmbH").exists()


def test_a_row_changed_here_is_rewritten_although_the_marketplace_lists_the_same(account, contoso, compares):
    run_sync(account)
    run_sync(account)
    # as anything that writes a synced field must: it clears the fingerprint
    Subscription.objects.filter(customer_tenant=contoso, product_id=E3).update(quantity=1, sync_fingerprint="")
    compares.clear()

    run = run_sync(account)

    assert compares == [SUBSCRIPTIONS]
    assert run.counts["subscriptions"] == {"created": 0, "updated": 1, "unchanged": 1, "removed": 0}
    assert Subscription.objects.get(customer_tenant=contoso, product_id=E3).quantity == 25


def test_tenants_connected_or_disconnected_after_a_skipped_sync_change_what_is_mirrored(
    account, contoso, fabrikam, simulator
):
    run_sync(account)
    run_sync(account)
    TenantConnection.objects.filter(customer_tenant=fabrikam).delete()  # its rows are left for the sync

    without = run_sync(account)

    assert without.counts["subscriptions"] == {"created": 0, "updated": 0, "unchanged": 2, "removed": 2}
    assert not Subscription.objects.filter(customer_tenant=fabrikam).exists()

    connect(account, fabrikam, company_id(simulator, "Fabrikam AG"), "Fabrikam AG")
    again = run_sync(account)

    assert again.counts["subscriptions"] == {"created": 2, "updated": 0, "unchanged": 2, "removed": 0}


def test_a_marketplace_customer_connected_to_another_tenant_moves_its_subscriptions(account, contoso, simulator):
    """The marketplace answers exactly as before; only which tenant its customer belongs to changed."""
    run_sync(account)
    run_sync(account)
    other = CustomerTenantFactory(customer__name="Contoso Holding")
    TenantConnection.objects.filter(customer_tenant=contoso).update(customer_tenant=other)

    run = run_sync(account)

    assert run.counts["subscriptions"] == {"created": 0, "updated": 2, "unchanged": 0, "removed": 0}
    assert set(Subscription.objects.filter(account=account).values_list("customer_tenant", flat=True)) == {other.pk}


def test_a_failed_sync_leaves_no_digest_and_the_next_sync_compares_in_full(account, contoso, simulator, compares):
    run_sync(account)
    simulator.inject(kind="unavailable", operation="GetSubscriptions", count=4)

    failed = run_sync(account)

    assert failed.status == SyncStatus.FAILED
    assert failed.mirror_digests == {}
    compares.clear()
    again = run_sync(account)
    assert again.status == SyncStatus.SUCCEEDED
    assert compares == [CUSTOMERS, OFFERS, SUBSCRIPTIONS]
    assert again.rows_written == 0
    compares.clear()
    run_sync(account)
    assert compares == []


def test_a_retried_sync_compares_every_kind_in_full(
    account, contoso, simulator, compares, django_capture_on_commit_callbacks, eager_retries, retries_outlast_pauses
):
    """Its first attempt may have written half way before the marketplace throttled it."""
    run_sync(account)
    simulator.inject(kind="throttle", operation="GetSubscriptions", count=1, retry_after=120)
    compares.clear()

    with django_capture_on_commit_callbacks(execute=True):
        run = sync_run_request(actor=None, account=account, trigger=SyncTrigger.SCHEDULE)

    run.refresh_from_db()
    assert run.status == SyncStatus.SUCCEEDED and run.attempts == 2
    assert compares == [CUSTOMERS, OFFERS, SUBSCRIPTIONS]


def test_a_sync_that_could_not_list_a_tenant_leaves_no_digest_for_subscriptions(account, contoso, compares):
    connect(account, CustomerTenantFactory(), "999999", "Gone GmbH")

    first = run_sync(account)

    assert first.status == SyncStatus.SUCCEEDED and first.warnings
    assert set(first.mirror_digests) == {"customers", "offers"}
    compares.clear()
    run_sync(account)
    assert compares == [SUBSCRIPTIONS]


def test_after_a_release_that_changes_how_answers_become_rows_every_kind_is_compared(
    account, contoso, compares, monkeypatch
):
    run_sync(account)
    monkeypatch.setattr(sync, "_mapping_source", lambda provider_module: b"another release")
    compares.clear()

    run_sync(account)

    assert compares == [CUSTOMERS, OFFERS, SUBSCRIPTIONS]


def test_a_listing_read_in_pages_is_recognised_though_each_page_carries_a_new_continuation_token(
    in_alpha, in_process, compares, monkeypatch
):
    """ALEF makes up a new continuation token on every call; the token is no part of the data."""
    monkeypatch.setattr(alef_adapter, "AlefClient", functools.partial(AlefClient, page_size=2))
    alef = AccountFactory(
        marketplace="alef",
        display_name="ALEF",
        region=ALEF_DEMO.region,
        username=ALEF_DEMO.username,
        secret_ciphertext=secret_encrypt(ALEF_DEMO.secret),
    )
    first = run_sync(alef)
    assert first.counts["customers"]["created"] > 2  # more than one page
    compares.clear()

    second = run_sync(alef)

    assert compares == []
    assert second.counts["customers"] == {
        "created": 0,
        "updated": 0,
        "unchanged": first.counts["customers"]["created"],
        "removed": 0,
    }


def test_partner_center_prices_the_clock_chooses_are_part_of_the_payload(in_process):
    """Which rows of the price sheet apply depends on the clock: the same answers read at a time when
    other prices apply must not pass for the same listing."""
    transport = httpx.WSGITransport(app=in_process["partner_center"])

    def listing_at(moment: datetime) -> tuple[str, int]:
        provider = PartnerCenterProvider(
            connection=PARTNER_CENTER_DEMO, transport=transport, sleep=lambda seconds: None, clock=lambda: moment
        )
        digest = hashlib.sha256()
        try:
            assert provider.digest_payload(digest=digest)
            offers = list(provider.list_offers())
        finally:
            provider.close()
        return digest.hexdigest(), len(offers)

    now = datetime.now(UTC)
    listed, offers = listing_at(now)
    before_the_prices, none = listing_at(now - timedelta(days=62))  # before the sheet's prices take effect

    assert offers > 0 and none == 0
    assert listing_at(now)[0] == listed != before_the_prices


def test_a_failed_sync_is_told_to_the_webhook_endpoints_and_measured(
    account, simulator, django_capture_on_commit_callbacks
):
    from portal.observability.metrics import SYNC_FAILURES
    from portal.webhooks.services import override_webhook_transport, webhook_endpoint_create
    from tests.portal.webhooks.receiver import Receiver

    webhook_endpoint_create(actor=None, url="https://noc.example/in", description="", events=["sync.failed"])
    receiver = Receiver()
    failures_before = SYNC_FAILURES.labels("also")._value.get()
    simulator.users["demo@also.example"].password = "changed-at-also"

    with (
        override_webhook_transport(httpx.WSGITransport(app=receiver)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        run = sync_run_request(actor=None, account=account, trigger=SyncTrigger.SCHEDULE)

    (request,) = receiver.received
    assert request.payload["type"] == "sync.failed"
    assert request.payload["data"]["sync_run_id"] == run.pk and request.payload["data"]["marketplace"] == "also"
    assert "check your username and password" in request.payload["data"]["message"]
    assert SYNC_FAILURES.labels("also")._value.get() == failures_before + 1
