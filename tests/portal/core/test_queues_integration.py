"""Sync, orders and reports have their own queues and workers: an order is placed while a long sync of the
same marketplace account runs, on real Celery workers against a real (simulated) marketplace server.

Integration tests see only committed rows: what this test creates in alpha's schema it deletes again.
"""

import threading
import uuid

import pytest
from django.conf import settings
from django.test import override_settings
from django_tenants.utils import schema_context

from catalog.models import Offer
from customers.models import Customer, CustomerTenant
from marketplace.choices import SyncPhase, SyncStatus, SyncTrigger
from marketplace.connections import provider_for_account
from marketplace.models import MarketplaceAccount, SyncRun, TenantConnection
from marketplace.services import sync_run_request
from orders.choices import OrderLineKind, OrderStatus
from orders.models import Order
from orders.services import LineSpec, order_create
from portal.accounts.models import Role, User
from portal.audit.models import AuditEvent, Notification
from portal.celery import app
from portal.partners.models import Partner
from simulators.also import DEMO_PASSWORD, DEMO_USERNAME, AlsoSimulator
from simulators.serving import threaded_wsgi_server
from subscriptions.models import Subscription, SubscriptionPrice
from tests.factories.accounts import user_with
from tests.factories.customers import CustomerTenantFactory
from tests.factories.marketplace import account_create, connect
from tests.orders.order_support import ORDER_MANAGE, offers_sync
from tests.processes import celery_worker_command, process_environment, running, wait_for

pytestmark = pytest.mark.integration

BASIC_MONTHLY = "1429494_NCEMicros365BusinessBasic_12909|Monthly (no commitment) - P1M"
#: How long the marketplace takes to list the tenant's subscriptions: the sync is still running after it
LONG_LISTING_SECONDS = 25
#: Models whose rows this test may create in alpha, in the order they are deleted again
CREATED = (
    AuditEvent,
    Notification,
    SubscriptionPrice,
    Order,
    Subscription,
    SyncRun,
    TenantConnection,
    Offer,
    MarketplaceAccount,
)
CREATED_AFTER = (CustomerTenant, Customer, User, Role)


def queue_routes(names: dict[str, str]) -> dict[str, dict[str, str]]:
    """The console's routes, to this test's queues."""
    real = {
        settings.CELERY_TASK_DEFAULT_QUEUE: names["default"],
        settings.CELERY_SYNC_QUEUE: names["sync"],
        settings.CELERY_ORDERS_QUEUE: names["orders"],
        settings.CELERY_REPORTS_QUEUE: names["reports"],
    }
    return {pattern: {"queue": real[route["queue"]]} for pattern, route in settings.CELERY_TASK_ROUTES.items()}


def test_the_order_and_sync_tasks_go_to_their_own_queues():
    router = app.amqp.router
    assert router.route({}, "marketplace.tasks.sync_account_run")["queue"].name == settings.CELERY_SYNC_QUEUE
    for order_task in (
        "orders.tasks.order_place",
        "orders.tasks.order_provisioning_check",
        "orders.tasks.order_email_send",
    ):
        assert router.route({}, order_task)["queue"].name == settings.CELERY_ORDERS_QUEUE
    assert router.route({}, "reports.tasks.usage_snapshots_take")["queue"].name == settings.CELERY_REPORTS_QUEUE
    # cheap scheduling work stays on the default queue, never behind a long sync
    assert router.route({}, "marketplace.tasks.sync_due_accounts")["queue"].name == settings.CELERY_TASK_DEFAULT_QUEUE
    assert (
        router.route({}, "portal.core.tasks.dispatch_to_partners")["queue"].name == settings.CELERY_TASK_DEFAULT_QUEUE
    )


def test_an_order_is_placed_while_a_long_sync_of_the_same_account_runs(
    django_db_setup, django_db_blocker, tmp_path, request
):
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    queues = {name: f"{prefix}-{name}" for name in ("default", "sync", "orders", "reports")}
    simulator = AlsoSimulator()
    server = threaded_wsgi_server(simulator, host="127.0.0.1", port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    request.addfinalizer(server.server_close)
    request.addfinalizer(server.shutdown)
    server_url = f"http://127.0.0.1:{server.server_port}"
    environment = process_environment(
        CELERY_TASK_DEFAULT_QUEUE=queues["default"],
        CELERY_SYNC_QUEUE=queues["sync"],
        CELERY_ORDERS_QUEUE=queues["orders"],
        CELERY_REPORTS_QUEUE=queues["reports"],
        ALSO_SIMULATOR_URL=server_url,
    )
    saved = {
        "task_always_eager": app.conf.task_always_eager,
        "task_default_queue": app.conf.task_default_queue,
        "task_routes": app.conf.task_routes,
    }
    app.conf.update(task_always_eager=False, task_default_queue=queues["default"], task_routes=queue_routes(queues))
    request.addfinalizer(lambda: app.conf.update(**saved))
    simulated = override_settings(ALSO_SIMULATOR_URL=server_url)
    simulated.enable()
    request.addfinalizer(simulated.disable)

    with django_db_blocker.unblock():
        alpha = Partner.objects.get(slug="alpha")
        with schema_context(alpha.schema_name):
            before = {
                model: model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
                for model in (*CREATED, *CREATED_AFTER)
            }
    request.addfinalizer(lambda: _delete_created(django_db_blocker, alpha.schema_name, before))

    sync_log, orders_log = tmp_path / "sync-worker.log", tmp_path / "orders-worker.log"
    with (
        running(celery_worker_command(queues["sync"]), environment, sync_log) as sync_worker,
        running(
            celery_worker_command(f"{queues['orders']},{queues['default']}"), environment, orders_log
        ) as orders_worker,
    ):
        for worker, log in ((sync_worker, sync_log), (orders_worker, orders_log)):
            assert wait_for(lambda log=log: "ready" in log.read_text(), timeout=90, process=worker), log.read_text()

        with django_db_blocker.unblock(), schema_context(alpha.schema_name):
            account = account_create(
                marketplace="also", username=DEMO_USERNAME, secret=DEMO_PASSWORD, region="de", name="ALSO queues"
            )
            provider = provider_for_account(account)
            offers_sync(account, provider)
            provider.close()
            company = next(company for company in simulator.companies.values() if company.name.startswith("Alpine"))
            tenant = CustomerTenantFactory(
                primary_domain="alpinequeues.onmicrosoft.com", customer__name="Alpine Queues"
            )
            connect(account, tenant, str(company.account_id))
            buyer = user_with(f"buyer-{prefix}", ORDER_MANAGE)
            simulator.inject(kind="latency", operation="GetSubscriptions", seconds=LONG_LISTING_SECONDS, count=1)

            run = sync_run_request(actor=None, account=account, trigger=SyncTrigger.MANUAL)

            def listing() -> bool:
                run.refresh_from_db()
                return run.status == SyncStatus.RUNNING and run.phase == SyncPhase.SUBSCRIPTIONS

            assert wait_for(listing, timeout=60, process=sync_worker), sync_log.read_text()

            order = order_create(
                actor=buyer,
                customer_tenant=tenant,
                lines=[
                    LineSpec(
                        kind=OrderLineKind.NEW_SUBSCRIPTION,
                        offer=Offer.objects.get(account=account, external_id=BASIC_MONTHLY),
                        quantity=2,
                    )
                ],
                submit=True,
                terms_accepted=True,
            )

            def completed() -> bool:
                order.refresh_from_db()
                return order.status == OrderStatus.COMPLETED

            assert wait_for(completed, timeout=LONG_LISTING_SECONDS - 5, process=orders_worker), orders_log.read_text()
            run.refresh_from_db()
            assert run.status == SyncStatus.RUNNING  # the order did not wait for the sync

            def synced() -> bool:
                run.refresh_from_db()
                return run.status not in (SyncStatus.QUEUED, SyncStatus.RUNNING, SyncStatus.RETRYING)

            assert wait_for(synced, timeout=LONG_LISTING_SECONDS + 60, process=sync_worker), sync_log.read_text()
            assert run.status == SyncStatus.SUCCEEDED, run.error_message
            assert Subscription.objects.filter(account=account, customer_tenant=tenant, quantity=2).exists()


def _last_pk(model) -> int:
    return model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _delete_created(django_db_blocker, schema_name: str, before: dict) -> None:
    with django_db_blocker.unblock(), schema_context(schema_name):
        for model in (*CREATED, *CREATED_AFTER):
            model.objects.filter(pk__gt=before[model]).delete()
