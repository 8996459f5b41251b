"""Demo data of the marketplace module: the demo partner's account on each marketplace's simulator
(ALSO, Partner Center, Cloudmore, ALEF), synced, with the customers' tenants connected to the
simulator's companies (every ALSO company; a few at each other marketplace).

The simulator of the run command (`<SLUG>_SIMULATOR_URL`) is used when it answers; otherwise (the run
command seeds before it starts the simulators, and tests have no server) an in-process simulator
serves the seeding. Both are seeded the same way, so the company ids stored here are the ones the
real simulator serves later. Idempotent: the account is found by its login, tenants by connection.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from customers.choices import ConsentState
from customers.models import Customer, CustomerTenant
from marketplace.choices import SyncStatus, SyncTrigger
from marketplace.connections import override_provider_transport, server_url_for
from marketplace.models import MarketplaceAccount, MarketplaceCustomer, SyncRun, TenantConnection
from marketplace.providers.base import ProviderConnection
from marketplace.providers.registry import marketplaces
from marketplace.services import (
    marketplace_account_create,
    sync_run_active,
    sync_run_request,
    tenant_connection_add,
    tenant_connection_connect,
)
from marketplace.sync import sync_run_execute
from portal.accounts.types import Actor
from portal.audit.choices import AuditAction
from portal.audit.services import audit_record
from simulators import simulator_module

DISPLAY_NAME = "ALSO Germany"
REGION = "de"
#: How many companies of the other marketplaces the demo connects to tenants.
OTHER_MARKETPLACE_CONNECTIONS = 3


@dataclass(frozen=True)
class DemoAccount:
    slug: str
    display_name: str
    connection: ProviderConnection
    #: connect every company (ALSO) or only a few
    connect_limit: int | None


def demo_accounts() -> list[DemoAccount]:
    """The demo account of every marketplace whose provider is present: ALSO first."""
    names = {"also": DISPLAY_NAME, "partner_center": "Partner Center demo", "cloudmore": "Cloudmore Nordic"}
    names["alef"] = "ALEF demo reseller"
    accounts = []
    for slug in marketplaces():
        accounts.append(
            DemoAccount(
                slug=str(slug),
                display_name=names.get(slug, f"{slug} demo"),
                connection=simulator_module(slug).DEMO_CONNECTION,
                connect_limit=None if slug == "also" else OTHER_MARKETPLACE_CONNECTIONS,
            )
        )
    return accounts


def _simulator_answers(url: str) -> bool:
    try:
        return httpx.get(f"{url.rstrip('/')}/_control/state", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def _reachable_simulator(slug: str = "also") -> Iterator[str]:
    """Use the running simulator if it answers, else an in-process one for as long as seeding takes."""
    name = marketplaces()[slug].name
    url = server_url_for(slug)
    if url and _simulator_answers(url):
        yield f"the {name} simulator at {url}"
        return
    simulator = simulator_module(slug).create_simulator()
    with override_provider_transport(slug, httpx.WSGITransport(app=simulator)):
        yield f"an in-process {name} simulator"


def _word(name: str) -> str:
    return "".join(ch for ch in name.lower().split(" ")[0] if ch.isalnum())


def _tenant_for(company: MarketplaceCustomer, actor: Actor, slug: str = "also") -> CustomerTenant | None:
    """The consented tenant of the customer whose name starts like the company's; a new customer with a
    consented tenant when no customer matches; None when the matching customer has no consented tenant
    (it shows the consent rule in the demo)."""
    word = _word(company.name)
    if slug == "also":
        # oldest first, so customers the other marketplaces' seeding added later never change the match
        for customer in Customer.objects.order_by("pk"):
            if _word(customer.name) == word:
                return customer.tenants.filter(consent_state=ConsentState.CONSENTED).order_by("pk").first()
    else:
        customer = Customer.objects.filter(name__iexact=company.name).order_by("pk").first()
        if customer is not None:
            return customer.tenants.filter(consent_state=ConsentState.CONSENTED).order_by("pk").first()
    customer = Customer.objects.create(name=company.name, country="DE", city=company.city, created_by=None)
    domain = (company.domains[0] if company.domains else f"{word}.example").split(".")[0]
    if CustomerTenant.objects.filter(primary_domain=f"{domain}demo.onmicrosoft.com").exists():
        domain = f"{domain}{slug.replace('_', '')}"
    tenant = CustomerTenant.objects.create(
        customer=customer,
        tenant_id=_stable_uuid(company.name, slug),
        primary_domain=f"{domain}demo.onmicrosoft.com",
        display_name=company.name,
        consent_state=ConsentState.CONSENTED,
        consented_at=timezone.now(),
        consented_by=f"admin@{domain}demo.onmicrosoft.com",
    )
    audit_record(actor=actor, action=AuditAction.CUSTOMER_CREATE, target=customer, customer_id=customer.pk)
    return tenant


def _stable_uuid(name: str, slug: str = "also"):
    return uuid.uuid5(uuid.NAMESPACE_DNS, f"{_word(name)}.{slug.replace('_', '-')}-demo.example")


def _run_pending(account: MarketplaceAccount) -> SyncRun | None:
    run = sync_run_active(account=account)
    return sync_run_execute(run_id=run.pk) if run is not None else None


def seed(partner) -> list[str]:
    actor = get_user_model().objects.filter(username="admin").first() or "demo"
    return [_seed_marketplace(demo, actor) for demo in demo_accounts()]


def _seed_marketplace(demo: DemoAccount, actor: Actor) -> str:
    slug, login = demo.slug, demo.connection
    with _reachable_simulator(slug) as where:
        account = MarketplaceAccount.objects.filter(
            marketplace=slug, region=login.region, username__iexact=login.username
        ).first()
        if account is None:
            account = marketplace_account_create(
                actor=actor,
                marketplace=slug,
                display_name=demo.display_name,
                region=login.region,
                username=login.username,
                secret=login.secret,
                options=dict(login.options),
            )
        else:
            sync_run_request(actor=None, account=account, trigger=SyncTrigger.ACCOUNT)
        _run_pending(account)

        connected = 0
        for company in MarketplaceCustomer.objects.filter(account=account).order_by("name"):
            if demo.connect_limit is not None and connected >= demo.connect_limit:
                break
            if TenantConnection.objects.filter(account=account, external_customer_id=company.external_id).exists():
                connected += 1
                continue
            with transaction.atomic():
                tenant = _tenant_for(company, actor, slug)
                if tenant is None:
                    continue
                if demo.connect_limit is not None and (
                    TenantConnection.objects.filter(customer_tenant=tenant, account__isnull=False)
                    .exclude(marketplace=slug)
                    .exists()
                ):
                    continue  # the demo buys a tenant's licences at one marketplace
                connection = TenantConnection.objects.filter(marketplace=slug, customer_tenant=tenant).first()
                if connection is None:
                    connection = tenant_connection_add(actor=actor, marketplace=slug, customer_tenant=tenant)
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
    return (
        f"  {marketplaces()[slug].name}: account '{account.display_name}' ({login.username} / {login.secret}, "
        f"region {login.region}) synced against {where}: {state}; {connected} tenant(s) connected, "
        f"{subscriptions} subscription(s)"
    )
