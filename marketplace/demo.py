"""Demo data of the marketplace module: the demo partner's ALSO account on the simulator, synced,
with the customers' tenants connected to the simulator's companies.

The simulator of the run command (`ALSO_SIMULATOR_URL`) is used when it answers; otherwise (the run
command seeds before it starts the simulators, and tests have no server) an in-process simulator
serves the seeding. Both are seeded the same way, so the company ids stored here are the ones the
real simulator serves later. Idempotent: the account is found by its login, tenants by connection.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from customers.choices import ConsentState
from customers.models import Customer, CustomerTenant
from marketplace.choices import SyncStatus, SyncTrigger
from marketplace.connections import override_provider_transport, server_url_for
from marketplace.models import MarketplaceAccount, MarketplaceCustomer, SyncRun, TenantConnection
from marketplace.providers.also.simulator import DEMO_PASSWORD, DEMO_USERNAME, AlsoSimulator
from marketplace.services import (
    marketplace_account_create,
    sync_run_active,
    sync_run_request,
    tenant_connection_add,
    tenant_connection_connect,
)
from marketplace.sync import sync_run_execute
from portal.audit.services import audit_record

DISPLAY_NAME = "ALSO Germany"
REGION = "de"


def _simulator_answers(url: str) -> bool:
    try:
        return httpx.get(f"{url.rstrip('/')}/_control/state", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def _reachable_simulator() -> Iterator[str]:
    """Use the running simulator if it answers, else an in-process one for as long as seeding takes."""
    url = server_url_for("also")
    if url and _simulator_answers(url):
        yield f"the ALSO simulator at {url}"
        return
    with override_provider_transport("also", httpx.WSGITransport(app=AlsoSimulator())):
        yield "an in-process ALSO simulator"


def _word(name: str) -> str:
    return "".join(ch for ch in name.lower().split(" ")[0] if ch.isalnum())


def _tenant_for(company: MarketplaceCustomer, actor) -> CustomerTenant | None:
    """The consented tenant of the customer whose name starts like the company's; a new customer with a
    consented tenant when no customer matches; None when the matching customer has no consented tenant
    (it shows the consent rule in the demo)."""
    word = _word(company.name)
    for customer in Customer.objects.all():
        if _word(customer.name) == word:
            return customer.tenants.filter(consent_state=ConsentState.CONSENTED).order_by("pk").first()
    customer = Customer.objects.create(name=company.name, country="DE", city=company.city, created_by=None)
    domain = (company.domains[0] if company.domains else f"{word}.example").split(".")[0]
    tenant = CustomerTenant.objects.create(
        customer=customer,
        tenant_id=_stable_uuid(company.name),
        primary_domain=f"{domain}demo.onmicrosoft.com",
        display_name=company.name,
        consent_state=ConsentState.CONSENTED,
        consented_at=timezone.now(),
        consented_by=f"admin@{domain}demo.onmicrosoft.com",
    )
    audit_record(actor=actor, action="customer.create", target=customer, customer_id=customer.pk)
    return tenant


def _stable_uuid(name: str):
    import uuid

    return uuid.uuid5(uuid.NAMESPACE_DNS, f"{_word(name)}.also-demo.example")


def _run_pending(account: MarketplaceAccount) -> SyncRun | None:
    run = sync_run_active(account=account)
    return sync_run_execute(run_id=run.pk) if run is not None else None


def seed(partner) -> list[str]:
    actor = get_user_model().objects.filter(username="admin").first() or "demo"
    with _reachable_simulator() as where:
        account = MarketplaceAccount.objects.filter(
            marketplace="also", region=REGION, username__iexact=DEMO_USERNAME
        ).first()
        if account is None:
            account = marketplace_account_create(
                actor=actor,
                marketplace="also",
                display_name=DISPLAY_NAME,
                region=REGION,
                username=DEMO_USERNAME,
                secret=DEMO_PASSWORD,
            )
        else:
            sync_run_request(actor=None, account=account, trigger=SyncTrigger.ACCOUNT)
        _run_pending(account)

        connected = 0
        for company in MarketplaceCustomer.objects.filter(account=account).order_by("name"):
            if TenantConnection.objects.filter(account=account, external_customer_id=company.external_id).exists():
                connected += 1
                continue
            with transaction.atomic():
                tenant = _tenant_for(company, actor)
                if tenant is None:
                    continue
                connection = TenantConnection.objects.filter(marketplace="also", customer_tenant=tenant).first()
                if connection is None:
                    connection = tenant_connection_add(actor=actor, marketplace="also", customer_tenant=tenant)
                if connection.is_connected:
                    continue
                tenant_connection_connect(
                    actor=actor, connection=connection, account=account, marketplace_customer=company
                )
                connected += 1
        last = _run_pending(account) or SyncRun.objects.filter(account=account).order_by("-created").first()
    subscriptions = account.subscriptions.count()
    state = last.get_status_display().lower() if last else "not run"
    if last is not None and last.status == SyncStatus.FAILED:
        state += f" ({last.error_message})"
    return [
        f"  ALSO: account '{account.display_name}' ({DEMO_USERNAME} / {DEMO_PASSWORD}, region {REGION}) synced "
        f"against {where}: {state}; {connected} tenant(s) connected, {subscriptions} subscription(s)"
    ]
