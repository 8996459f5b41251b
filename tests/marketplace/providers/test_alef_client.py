"""ALEF: the wire client, the provider adapter and the simulator, in-process through WSGITransport."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from marketplace.providers.alef.adapter import AlefProvider, offer_id_for, split_offer_id
from marketplace.providers.alef.client import (
    AlefClient,
    EtagConflict,
    PendingOperation,
    base_url_for,
    request_id_for,
)
from marketplace.providers.alef.records import (
    CustomerEligibility,
    OfferSegment,
    OperationStatus,
    TenantDraft,
)
from marketplace.providers.base import (
    AuthenticationFailed,
    BillingCycle,
    Capability,
    CustomerDraft,
    MarketplaceProvider,
    NotFound,
    OrderLineOutcome,
    ProviderBase,
    Rejected,
    SubscriptionStatus,
    Throttled,
    Unavailable,
)
from marketplace.providers.http import RetryPolicy
from marketplace.providers.registry import available_slugs, create_provider
from simulators.alef import (
    A3_FACULTY,
    ARCHIVING,
    BASIC,
    DEMO_CONNECTION,
    DEMO_PASSWORD,
    DEMO_USERNAME,
    E3,
    EXCHANGE_1,
    OTHER_PASSWORD,
    OTHER_USERNAME,
    PREMIUM,
    TEAMS_PHONE,
    AlefSimulator,
    create_simulator,
)

NO_JITTER = RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=30.0, jitter=0.0)


def offer(simulator: AlefSimulator, product_key: str, term: str, cycle: str) -> str:
    return offer_id_for(catalog_item_id=simulator.catalog[product_key].catalog_item_id, term=term, billing_cycle=cycle)


@pytest.fixture
def simulator() -> AlefSimulator:
    return AlefSimulator()


@pytest.fixture
def sleeps() -> list[float]:
    return []


def make_client(simulator: AlefSimulator, sleeps: list[float], **overrides) -> AlefClient:
    options = {
        "reseller": "demo",
        "username": DEMO_USERNAME,
        "password": DEMO_PASSWORD,
        "transport": httpx.WSGITransport(app=simulator),
        "retry_policy": NO_JITTER,
        "sleep": sleeps.append,
        **overrides,
    }
    return AlefClient(**options)


@pytest.fixture
def client(simulator: AlefSimulator, sleeps: list[float]) -> Iterator[AlefClient]:
    with make_client(simulator, sleeps) as alef:
        yield alef


@pytest.fixture
def provider(simulator: AlefSimulator, sleeps: list[float]) -> Iterator[AlefProvider]:
    with AlefProvider(
        connection=DEMO_CONNECTION,
        transport=httpx.WSGITransport(app=simulator),
        sleep=sleeps.append,
        retry_policy=NO_JITTER,
    ) as alef:
        yield alef


def customer_id(client: AlefClient, name: str) -> str:
    return next(str(c["id"]) for c in client.list_customers() if c["companyProfile"]["companyName"] == name)


def subscription_of(client: AlefClient, customer: str, product_key: str) -> dict:
    product_id, sku_id = product_key.split(":")
    return next(
        s
        for s in client.list_subscriptions(customer_id=customer_id(client, customer))
        if (s["productId"], s["skuId"]) == (product_id, sku_id)
    )


def line(simulator: AlefSimulator, product_key: str, term: str, cycle: str, quantity: int, **extra) -> dict:
    return {
        "lineItemNumber": 0,
        "offerId": simulator.catalog[product_key].catalog_item_id,
        "termDuration": term,
        "billingCycle": cycle,
        "quantity": quantity,
        **extra,
    }


CONTACT = {"firstName": "Tudor", "lastName": "Tail", "email": "tudor@tailspin.example"}


# ------------------------------------------------------------------------------------------------
# Reseller host, sign-in, Partner Center headers
# ------------------------------------------------------------------------------------------------


def test_each_reseller_has_its_own_host_or_a_path_prefix() -> None:
    assert base_url_for(reseller="demo") == "https://demo.alef.cloud/api/v1"
    assert base_url_for(reseller="Acme-IT") == "https://acme-it.alef.cloud/api/v1"
    assert base_url_for(reseller="demo", server_url="http://127.0.0.1:8204/") == "http://127.0.0.1:8204/demo/api/v1"
    with pytest.raises(ValueError, match="not an ALEF reseller host name"):
        base_url_for(reseller="evil.example/x")


def test_request_ids_derive_from_the_idempotency_key() -> None:
    assert request_id_for("order-1") == request_id_for("order-1") != request_id_for("order-2")


def test_sign_in_is_per_reseller_host(simulator: AlefSimulator) -> None:
    with make_client(simulator, [], password="nope") as wrong:
        with pytest.raises(AuthenticationFailed, match="user name or password is incorrect"):
            wrong.get_customer(customer_id="x")
    with make_client(simulator, [], username=OTHER_USERNAME, password=OTHER_PASSWORD) as foreign:
        with pytest.raises(AuthenticationFailed):  # the other reseller's user on the demo host
            list(foreign.list_customers())
    with make_client(simulator, [], reseller="other", username=OTHER_USERNAME, password=OTHER_PASSWORD) as own:
        assert [c["companyProfile"]["companyName"] for c in own.list_customers()] == [
            "Other Reseller SRL",
            "Elsewhere SRL",
        ]


def test_the_simulator_answers_on_a_path_prefix_too(simulator: AlefSimulator) -> None:
    with make_client(simulator, [], reseller="demo") as alef:
        token = alef.authenticate()
    with httpx.Client(transport=httpx.WSGITransport(app=simulator), base_url="http://127.0.0.1:8204") as http:
        answer = http.get(
            "/demo/api/v1/customers",
            headers={"Authorization": f"Bearer {token}", "MS-RequestId": "r-1", "MS-CorrelationId": "c-1"},
        )
        assert answer.status_code == 200 and answer.json()["attributes"]["objectType"] == "Collection"
        assert (answer.headers["MS-RequestId"], answer.headers["MS-CorrelationId"]) == ("r-1", "c-1")
        assert http.get("/nobody/api/v1/customers").status_code == 404
        assert http.get("/demo/api/v2/customers").status_code == 404


def test_an_expired_token_is_renewed_once(client: AlefClient, simulator: AlefSimulator) -> None:
    list(client.list_customers())
    simulator.expire_tokens()
    assert len(list(client.list_customers())) == 9
    assert simulator.call_counts["token"] == 2
    simulator.advance_clock(seconds=2 * 3600)  # the one-hour token ran out on ALEF's side
    assert len(list(client.list_customers())) == 9
    assert simulator.call_counts["token"] == 3
    simulator.inject(kind="token_expiry", operation="get_pricelist", count=2)
    with pytest.raises(AuthenticationFailed, match="fresh token"):
        client.list_price_list()


# ------------------------------------------------------------------------------------------------
# Throttling, unavailability, MS-RequestId replay
# ------------------------------------------------------------------------------------------------


def test_429_waits_for_retry_after(client: AlefClient, simulator: AlefSimulator, sleeps: list[float]) -> None:
    simulator.inject(kind="throttle", operation="get_pricelist", retry_after=4, count=3)
    assert len(client.list_price_list()) == 30
    assert sleeps == [4.0, 4.0, 4.0]
    simulator.inject(kind="throttle", operation="get_pricelist", retry_after=90)
    with pytest.raises(Throttled) as raised:
        client.list_price_list()
    assert raised.value.retry_after == 90


def test_5xx_reads_are_retried_writes_are_not(
    client: AlefClient, simulator: AlefSimulator, sleeps: list[float]
) -> None:
    simulator.inject(kind="unavailable", operation="get_pricelist", count=2)
    assert len(client.list_price_list()) == 30
    assert sleeps == [0.5, 1.0]
    contoso = customer_id(client, "Contoso SRL")
    simulator.inject(kind="unavailable", operation="create_order")
    with pytest.raises(Unavailable):
        client.create_order(
            customer_id=contoso, order={"lineItems": [line(simulator, BASIC, "P1M", "monthly", 1)]}, idempotency_key="k"
        )
    assert simulator.call_counts["create_order"] == 1


def test_a_replayed_request_id_after_a_timeout_returns_the_first_order(
    client: AlefClient, simulator: AlefSimulator
) -> None:
    contoso = customer_id(client, "Contoso SRL")
    order = {"referenceNumber": "ord-1", "lineItems": [line(simulator, BASIC, "P1M", "monthly", 4)]}
    simulator.inject(kind="unavailable", operation="create_order", apply_first=True)
    with pytest.raises(Unavailable):
        client.create_order(customer_id=contoso, order=order, idempotency_key="ord-1")
    replayed = client.create_order(customer_id=contoso, order=order, idempotency_key="ord-1")
    assert len(simulator.orders) == 1 and replayed["id"] in simulator.orders
    assert simulator.call_counts["create_order"] == 2
    fresh = client.create_order(customer_id=contoso, order=order, idempotency_key="ord-2")
    assert fresh["id"] != replayed["id"] and len(simulator.orders) == 2


# ------------------------------------------------------------------------------------------------
# Every client operation
# ------------------------------------------------------------------------------------------------


def test_customers_page_with_continuation_tokens(simulator: AlefSimulator, sleeps: list[float]) -> None:
    with make_client(simulator, sleeps, page_size=4) as alef:
        customers = list(alef.list_customers())
    names = [c["companyProfile"]["companyName"] for c in customers]
    assert names[:2] == ["Demo Reseller SRL", "Contoso SRL"] and len(names) == 9
    assert customers[0]["isReseller"] is True and customers[0]["relationshipToPartner"] == "self"
    assert simulator.call_counts["list_customers"] == 3
    contoso = customers[1]
    assert contoso["companyProfile"]["tenantId"] == "67a08685-ba70-4922-ae8b-802ff5c44282"
    assert contoso["organizationProfile"] == {
        "industry": "Manufacturing",
        "isAcademic": False,
        "isGovernment": False,
        "isNonProfit": False,
    }


def test_a_stale_continuation_token_is_refused(client: AlefClient) -> None:
    with pytest.raises(Rejected, match="continuation token"):
        client._call(
            "GET",
            "customers?size=2&seekOperation=Next",
            operation="list_customers",
            idempotent=True,
            headers={"MS-ContinuationToken": "bogus"},
        )


def test_price_list_and_eligible_offers(client: AlefClient) -> None:
    rows = client.list_price_list()
    e3 = next(
        r
        for r in rows
        if (r["productId"], r["skuId"], r["termDuration"], r["billingCycle"])
        == ("CFQ7TTC0LFLX", "0001", "P1Y", "monthly")
    )
    assert (e3["partnerPrice"], e3["customerPrice"], e3["suggestedRetailPrice"]) == (
        Decimal("28.31"),
        Decimal("29.73"),
        Decimal("33.7"),
    )
    assert isinstance(e3["partnerPrice"], Decimal)
    assert {r["segment"] for r in rows} == {"commercial", "academic", "government", "nonprofit"}
    assert {r["segment"] for r in client.list_price_list(segment="academic")} == {"academic"}
    contoso = {r["segment"] for r in client.list_customer_offers(customer_id=customer_id(client, "Contoso SRL"))}
    adatum = {
        r["segment"] for r in client.list_customer_offers(customer_id=customer_id(client, "Universitatea Adatum"))
    }
    assert contoso == {"commercial"} and adatum == {"commercial", "academic"}


def test_create_customer_checks_industry_and_flags(client: AlefClient) -> None:
    created = client.create_customer(
        customer={
            "companyProfile": {"companyName": "Liceul Trey", "email": "it@trey.example"},
            "billingProfile": {
                "defaultAddress": {"addressLine1": "Str. 1", "city": "Arad", "postalCode": "310000", "country": "RO"}
            },
            "organizationProfile": {"industry": "Education", "isAcademic": True},
        }
    )
    assert created["organizationProfile"]["isAcademic"] is True and created["companyProfile"]["tenantId"] is None
    with pytest.raises(Rejected, match="Only organizations in the Education industry"):
        client.create_customer(
            customer={
                "companyProfile": {"companyName": "Fake Academy", "email": "a@b.example"},
                "organizationProfile": {"industry": "Retail", "isAcademic": True},
            }
        )
    with pytest.raises(Rejected, match="already exists"):
        client.create_customer(customer={"companyProfile": {"companyName": "Liceul Trey", "email": "x@y.example"}})
    with pytest.raises(Rejected, match="Unknown industry"):
        client.create_customer(
            customer={
                "companyProfile": {"companyName": "Odd SRL", "email": "x@y.example"},
                "organizationProfile": {"industry": "Piracy"},
            }
        )


def test_domain_check(client: AlefClient) -> None:
    assert client.domain_exists(domain="contoso.onmicrosoft.com") is True
    assert client.domain_exists(domain="tailspintoys") is False


def test_tenant_creation_is_an_operation_polled_until_done(client: AlefClient, simulator: AlefSimulator) -> None:
    tailspin = customer_id(client, "Tailspin Toys SRL")
    started = client.create_tenant(customer_id=tailspin, tenant={"domainPrefix": "tailspintoys", "contact": CONTACT})
    assert started["status"] == "running" and started["domain"] == "tailspintoys.onmicrosoft.com"
    assert client.get_customer(customer_id=tailspin)["tenantStatus"] == "provisioning"
    with pytest.raises(PendingOperation, match="still being created"):
        client.create_order(
            customer_id=tailspin,
            order={"lineItems": [line(simulator, BASIC, "P1M", "monthly", 1)]},
            idempotency_key="t",
        )
    with pytest.raises(PendingOperation):
        client.create_tenant(customer_id=tailspin, tenant={"domainPrefix": "tailspin2", "contact": CONTACT})
    statuses = [client.get_operation(operation_id=started["id"])["status"] for _ in range(3)]
    assert statuses == ["running", "running", "succeeded"]
    done = client.get_operation(operation_id=started["id"])
    assert done["tenantId"] and done["error"] is None
    customer = client.get_customer(customer_id=tailspin)
    assert customer["companyProfile"]["domain"] == "tailspintoys.onmicrosoft.com"
    assert customer["tenantStatus"] == "active"
    assert {e["to"] for e in simulator.sent_emails} == {"office@demo.example", "tudor@tailspin.example"}
    assert client.domain_exists(domain="tailspintoys") is True
    with pytest.raises(Rejected, match="already has the tenant"):
        client.create_tenant(customer_id=tailspin, tenant={"domainPrefix": "another", "contact": CONTACT})


def test_tenant_creation_completes_when_the_clock_passes_the_domain_check(
    client: AlefClient, simulator: AlefSimulator
) -> None:
    tailspin = customer_id(client, "Tailspin Toys SRL")
    started = client.create_tenant(customer_id=tailspin, tenant={"domainPrefix": "tailspintoys", "contact": CONTACT})
    simulator.clock_advance(300)
    assert client.get_operation(operation_id=started["id"])["status"] == "succeeded"


def test_a_taken_domain_fails_the_operation_and_an_incomplete_address_is_refused(
    client: AlefClient, simulator: AlefSimulator
) -> None:
    tailspin = customer_id(client, "Tailspin Toys SRL")
    started = client.create_tenant(customer_id=tailspin, tenant={"domainPrefix": "fabrikam", "contact": CONTACT})
    simulator.clock_advance(300)
    failed = client.get_operation(operation_id=started["id"])
    assert failed["status"] == "failed" and failed["error"]["code"] == "DomainNotAvailable"
    assert "already belongs to a Microsoft tenant" in failed["error"]["message"]
    assert client.get_customer(customer_id=tailspin)["tenantStatus"] == "none"
    alpine = customer_id(client, "Alpine Ski House SRL")
    simulator.customers[alpine].address["postalCode"] = ""
    with pytest.raises(Rejected, match=r"address is incomplete \(postal code\)"):
        client.create_tenant(customer_id=alpine, tenant={"domainPrefix": "alpineski", "contact": CONTACT})
    with pytest.raises(NotFound):
        client.get_operation(operation_id="00000000-0000-0000-0000-000000000000")


def test_orders_eligibility_add_ons_and_lookups(client: AlefClient, simulator: AlefSimulator) -> None:
    contoso = customer_id(client, "Contoso SRL")
    with pytest.raises(Rejected) as refused:
        client.create_order(
            customer_id=contoso,
            order={"lineItems": [line(simulator, A3_FACULTY, "P1Y", "annual", 10)]},
            idempotency_key="academic",
        )
    assert refused.value.code == "800004" and "for academic organizations only" in refused.value.message
    assert "CustomerNotEligible" in refused.value.data
    adatum = customer_id(client, "Universitatea Adatum")
    academic = client.create_order(
        customer_id=adatum,
        order={"referenceNumber": "a-1", "lineItems": [line(simulator, A3_FACULTY, "P1Y", "annual", 10)]},
        idempotency_key="a-1",
    )
    assert academic["status"] == "completed" and academic["referenceNumber"] == "a-1"
    e3 = subscription_of(client, "Contoso SRL", E3)
    add_on = client.create_order(
        customer_id=contoso,
        order={"lineItems": [line(simulator, TEAMS_PHONE, "P1Y", "monthly", 3, parentSubscriptionId=e3["id"])]},
        idempotency_key="addon",
    )
    subscription_id = add_on["lineItems"][0]["subscriptionId"]
    assert client.get_subscription(subscription_id=subscription_id)["parentSubscriptionId"] == e3["id"]
    assert [a["id"] for a in client.list_add_ons(customer_id=contoso, subscription_id=e3["id"])][-1] == subscription_id
    assert [s["id"] for s in client.list_subscriptions(customer_id=contoso, order_id=add_on["id"])] == [subscription_id]
    assert client.get_order(customer_id=contoso, order_id=add_on["id"])["lineItems"][0]["quantity"] == 3
    assert [o["id"] for o in client.list_orders(customer_id=contoso)] == [add_on["id"]]
    basic = subscription_of(client, "Contoso SRL", BASIC)
    with pytest.raises(Rejected, match="cannot be added to Microsoft 365 Business Basic"):
        client.create_order(
            customer_id=contoso,
            order={"lineItems": [line(simulator, TEAMS_PHONE, "P1Y", "monthly", 1, parentSubscriptionId=basic["id"])]},
            idempotency_key="addon-2",
        )
    with pytest.raises(Rejected, match="not sold with term P3Y"):
        client.create_order(
            customer_id=contoso,
            order={"lineItems": [line(simulator, BASIC, "P3Y", "annual", 1)]},
            idempotency_key="p3y",
        )
    with pytest.raises(Rejected, match="no Microsoft tenant yet"):
        client.create_order(
            customer_id=customer_id(client, "Alpine Ski House SRL"),
            order={"lineItems": [line(simulator, BASIC, "P1M", "monthly", 1)]},
            idempotency_key="no-tenant",
        )


def test_patch_rules_etag_window_transitions(client: AlefClient, simulator: AlefSimulator) -> None:
    contoso = customer_id(client, "Contoso SRL")
    e3 = subscription_of(client, "Contoso SRL", E3)  # bought 200 days ago
    stale = dict(e3)
    grown = client.patch_subscription(customer_id=contoso, subscription={**e3, "quantity": 30})
    assert grown["quantity"] == 30 and grown["refundableQuantity"]["totalQuantity"] == 5
    with pytest.raises(EtagConflict):
        client.patch_subscription(customer_id=contoso, subscription={**stale, "quantity": 31})
    shrunk = client.patch_subscription(customer_id=contoso, subscription={**grown, "quantity": 26})
    assert shrunk["quantity"] == 26
    with pytest.raises(Rejected) as decrease:
        client.patch_subscription(customer_id=contoso, subscription={**shrunk, "quantity": 20})
    assert (decrease.value.code, decrease.value.message) == ("800090", "Subscription quantity cannot be decreased.")
    with pytest.raises(Rejected) as cancel:
        client.patch_subscription(customer_id=contoso, subscription={**shrunk, "status": "deleted"})
    assert cancel.value.code == "800090" and "cancellationAllowedUntilDate" in cancel.value.message
    with pytest.raises(Rejected) as transition:
        client.patch_subscription(customer_id=contoso, subscription={**shrunk, "status": "pending"})
    assert transition.value.code == "800040"
    suspended = client.patch_subscription(customer_id=contoso, subscription={**shrunk, "status": "suspended"})
    assert suspended["suspensionReasons"] == ["PartnerInitiated"]
    teams = subscription_of(client, "Contoso SRL", TEAMS_PHONE)
    assert teams["status"] == "suspended"
    with pytest.raises(Rejected, match="Reactivate the base subscription"):
        client.patch_subscription(customer_id=contoso, subscription={**teams, "status": "active"})
    active = client.patch_subscription(customer_id=contoso, subscription={**suspended, "status": "active"})
    annual = client.patch_subscription(customer_id=contoso, subscription={**active, "billingCycle": "annual"})
    assert annual["billingCycle"] == "annual" and annual["partnerPrice"] == Decimal("339.70")
    basic = subscription_of(client, "Contoso SRL", BASIC)  # P1M, bought 3 days ago
    with pytest.raises(Rejected, match="cannot be billed annual"):
        client.patch_subscription(customer_id=contoso, subscription={**basic, "billingCycle": "annual"})
    deleted = client.patch_subscription(customer_id=contoso, subscription={**basic, "status": "deleted"})
    assert deleted["status"] == "deleted"
    with pytest.raises(Rejected) as gone:
        client.patch_subscription(customer_id=contoso, subscription={**deleted, "quantity": 3})
    assert gone.value.code == "800012"


# ------------------------------------------------------------------------------------------------
# The provider adapter
# ------------------------------------------------------------------------------------------------


def test_registry_builds_the_alef_provider_from_the_demo_connection() -> None:
    assert "alef" in available_slugs()
    provider = create_provider(
        slug="alef", connection=DEMO_CONNECTION, transport=httpx.WSGITransport(app=create_simulator())
    )
    with provider:
        assert isinstance(provider, MarketplaceProvider) and isinstance(provider, AlefProvider)
        assert provider.client.base_url == "https://demo.alef.cloud/api/v1/"
        assert len(list(provider.list_customers())) == 8


def test_every_capability_is_declared_implemented_and_has_a_rule_where_it_matters() -> None:
    optional = {
        Capability.READ_CREDIT_LIMIT,
        Capability.LIST_TENANT_LICENCES,
        Capability.LIST_GDAP_RELATIONSHIPS,
    }
    assert AlefProvider.capabilities == frozenset(Capability) - optional
    for method in (
        "list_customers",
        "list_offers",
        "list_subscriptions",
        "create_customer",
        "place_order_line",
        "change_quantity",
        "suspend",
        "reactivate",
        "terminate",
        "revoke_termination",
        "change_billing_cycle",
        "add_add_on",
        "change_add_on_quantity",
        "remove_add_on",
        "list_invoice_lines",
    ):
        assert getattr(AlefProvider, method) is not getattr(ProviderBase, method), method
    assert "800090" in AlefProvider.capability_rules[Capability.CHANGE_QUANTITY]
    assert "Asynchronous" in AlefProvider.capability_rules[Capability.CREATE_TENANT]


def test_offer_ids_round_trip() -> None:
    offer_id = offer_id_for(catalog_item_id="CFQ7TTC0LH18:0001:CFQ7TTC0K971", term="P1Y", billing_cycle="monthly")
    assert split_offer_id(offer_id) == ("CFQ7TTC0LH18:0001:CFQ7TTC0K971", "P1Y", "monthly")
    with pytest.raises(Rejected, match="not an ALEF offer id"):
        split_offer_id("CFQ7TTC0LH18:0001")


def test_list_customers_skips_the_resellers_own_organization(provider: AlefProvider) -> None:
    customers = {c.name: c for c in provider.list_customers()}
    assert "Demo Reseller SRL" not in customers and len(customers) == 8
    contoso = customers["Contoso SRL"]
    assert (contoso.country, contoso.city, contoso.domains) == ("RO", "București", ("contoso.onmicrosoft.com",))
    assert customers["Tailspin Toys SRL"].domains == ()


def test_offers_carry_partner_customer_and_retail_prices(provider: AlefProvider, simulator: AlefSimulator) -> None:
    offers = {o.offer_id: o for o in provider.list_offers()}
    e3 = offers[offer(simulator, E3, "P1Y", "monthly")]
    assert (e3.cost_price, e3.sales_price, e3.suggested_retail_price) == (
        Decimal("28.31"),
        Decimal("29.73"),
        Decimal("33.70"),
    )
    assert (e3.product_id, e3.billing_cycle, e3.term) == (E3, BillingCycle.MONTHLY, "P1Y")
    teams = offers[offer(simulator, TEAMS_PHONE, "P1Y", "monthly")]
    assert teams.is_add_on and set(teams.add_on_parent_product_ids) >= {E3, PREMIUM}
    assert offers[offer(simulator, A3_FACULTY, "P1Y", "annual")].name == "Microsoft 365 A3 for faculty (academic)"
    segments = {s.offer.offer_id: s.segment for s in provider.list_segmented_offers()}
    assert segments[offer(simulator, A3_FACULTY, "P1Y", "annual")] == OfferSegment.ACADEMIC
    contoso = next(c.external_id for c in provider.list_customers() if c.name == "Contoso SRL")
    assert all(
        segments[o.offer_id] == OfferSegment.COMMERCIAL
        for o in provider.list_offers_for_customer(customer_external_id=contoso)
    )


def test_eligibility(provider: AlefProvider) -> None:
    names = {c.name: c.external_id for c in provider.list_customers()}
    adatum = provider.customer_eligibility(customer_external_id=names["Universitatea Adatum"])
    assert adatum == CustomerEligibility(industry="Education", academic=True)
    assert adatum.may_order(OfferSegment.ACADEMIC) and not adatum.may_order(OfferSegment.GOVERNMENT)
    litware = provider.customer_eligibility(customer_external_id=names["Fundația Litware"])
    assert litware.segments == {OfferSegment.COMMERCIAL, OfferSegment.NON_PROFIT}


def test_list_subscriptions_nests_add_ons_and_maps_states(provider: AlefProvider, simulator: AlefSimulator) -> None:
    subscriptions = list(provider.list_subscriptions())
    assert len(subscriptions) == 11
    by_offer = {s.offer_id: s for s in subscriptions}
    e3 = by_offer[offer(simulator, E3, "P1Y", "monthly")]
    assert [a.offer_id for a in e3.add_ons] == [offer(simulator, TEAMS_PHONE, "P1Y", "monthly")]
    assert e3.assigned == 19 and e3.currency == "EUR" and e3.unit_cost_price == Decimal("28.31")
    standard = next(s for s in subscriptions if s.name == "Microsoft 365 Business Standard")
    assert not standard.auto_renew and standard.scheduled_termination_date == standard.term_end
    trial = next(s for s in subscriptions if s.trial)
    assert trial.name == "Microsoft 365 Business Premium"
    states = {s.status for s in subscriptions}
    assert states == {SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED, SubscriptionStatus.TERMINATED}
    assert provider.get_subscription(subscription_external_id=e3.external_id) == e3
    with pytest.raises(NotFound, match="add-on"):
        provider.get_subscription(subscription_external_id=e3.add_ons[0].external_id)
    with pytest.raises(NotFound):
        provider.get_subscription(subscription_external_id="00000000-0000-0000-0000-000000000000")


def test_create_customer_and_an_academic_organization(provider: AlefProvider) -> None:
    draft = CustomerDraft(
        name="Wingtip SRL",
        email="it@wingtip.example",
        country="ro",
        city="Oradea",
        address_line="Str. 2",
        postal_code="410001",
    )
    record = provider.create_customer(customer=draft)
    assert (record.name, record.country, record.city) == ("Wingtip SRL", "RO", "Oradea")
    assert provider.customer_eligibility(customer_external_id=record.external_id).industry == "Other"
    school = provider.create_organization(
        customer=CustomerDraft(
            name="Școala Trey",
            email="it@trey.example",
            country="RO",
            city="Arad",
            address_line="Str. 3",
            postal_code="310001",
        ),
        eligibility=CustomerEligibility(industry="Education", academic=True),
    )
    assert provider.customer_eligibility(customer_external_id=school.external_id).academic


def test_place_order_line_find_it_and_never_buy_twice(provider: AlefProvider, simulator: AlefSimulator) -> None:
    fabrikam = next(c.external_id for c in provider.list_customers() if c.name == "Fabrikam SRL")
    e3 = offer(simulator, E3, "P1Y", "monthly")
    assert provider.find_applied_order_line(customer_external_id=fabrikam, idempotency_key="order-9-line-1") is None
    result = provider.place_order_line(
        customer_external_id=fabrikam, offer_id=e3, quantity=7, idempotency_key="order-9-line-1"
    )
    assert result.outcome == OrderLineOutcome.COMPLETED
    assert (result.subscription.quantity, result.subscription.order_reference) == (7, "order-9-line-1")
    assert result.subscription.cancellation_allowed_until is not None
    found = provider.find_applied_order_line(customer_external_id=fabrikam, idempotency_key="order-9-line-1")
    assert found == result.subscription
    again = provider.place_order_line(
        customer_external_id=fabrikam, offer_id=e3, quantity=7, idempotency_key="order-9-line-1"
    )
    assert again.subscription.external_id == result.subscription.external_id
    assert len(simulator.orders) == 1
    other_customer = next(c.external_id for c in provider.list_customers() if c.name == "Contoso SRL")
    elsewhere = provider.place_order_line(
        customer_external_id=other_customer, offer_id=e3, quantity=1, idempotency_key="order-9-line-1"
    )
    assert elsewhere.subscription.customer_external_id == other_customer  # the key is per customer


def test_ordering_an_academic_offer_for_a_commercial_organization_is_refused(
    provider: AlefProvider, simulator: AlefSimulator
) -> None:
    names = {c.name: c.external_id for c in provider.list_customers()}
    a3 = offer(simulator, A3_FACULTY, "P1Y", "annual")
    with pytest.raises(Rejected) as refused:
        provider.place_order_line(
            customer_external_id=names["Contoso SRL"], offer_id=a3, quantity=5, idempotency_key="x1"
        )
    assert refused.value.code == "not_eligible"
    assert "Microsoft 365 A3 for faculty is for academic organizations only" in refused.value.message
    assert len(simulator.orders) == 0
    bought = provider.place_order_line(
        customer_external_id=names["Universitatea Adatum"], offer_id=a3, quantity=5, idempotency_key="x2"
    )
    assert bought.subscription.name == "Microsoft 365 A3 for faculty"


def test_change_quantity_and_the_nce_window(provider: AlefProvider, simulator: AlefSimulator) -> None:
    e3 = next(s for s in provider.list_subscriptions() if s.offer_id == offer(simulator, E3, "P1Y", "monthly"))
    assert provider.change_quantity(subscription_external_id=e3.external_id, quantity=28).quantity == 28
    assert provider.change_quantity(subscription_external_id=e3.external_id, quantity=26).quantity == 26
    with pytest.raises(Rejected) as outside:
        provider.change_quantity(subscription_external_id=e3.external_id, quantity=10)
    assert outside.value.code == "800090"
    assert provider.get_subscription(subscription_external_id=e3.external_id).quantity == 26


def test_an_etag_conflict_is_re_read_and_applied_once(provider: AlefProvider, simulator: AlefSimulator) -> None:
    e3 = next(s for s in provider.list_subscriptions() if s.offer_id == offer(simulator, E3, "P1Y", "monthly"))
    simulator.inject(kind="etag_conflict", operation="patch_subscription")
    assert provider.change_quantity(subscription_external_id=e3.external_id, quantity=27).quantity == 27
    assert simulator.call_counts["patch_subscription"] == 2
    simulator.inject(kind="etag_conflict", operation="patch_subscription", count=2)
    with pytest.raises(EtagConflict):
        provider.change_quantity(subscription_external_id=e3.external_id, quantity=29)


def test_suspend_reactivate_terminate_and_revoke(provider: AlefProvider, simulator: AlefSimulator) -> None:
    names = {c.name: c.external_id for c in provider.list_customers()}
    mine = {s.offer_id: s for s in provider.list_subscriptions(customer_external_id=names["Contoso SRL"])}
    e3 = mine[offer(simulator, E3, "P1Y", "monthly")]
    suspended = provider.suspend(subscription_external_id=e3.external_id)
    assert suspended.status == SubscriptionStatus.SUSPENDED
    assert suspended.add_ons[0].status == SubscriptionStatus.SUSPENDED
    assert provider.reactivate(subscription_external_id=e3.external_id).status == SubscriptionStatus.ACTIVE
    scheduled = provider.terminate(subscription_external_id=e3.external_id, reason="moving away")
    assert scheduled.status == SubscriptionStatus.ACTIVE and not scheduled.auto_renew
    assert scheduled.scheduled_termination_date == scheduled.term_end
    revoked = provider.revoke_termination(subscription_external_id=e3.external_id)
    assert revoked.auto_renew and revoked.scheduled_termination_date is None
    basic = mine[offer(simulator, BASIC, "P1M", "monthly")]
    ended = provider.terminate(subscription_external_id=basic.external_id)
    assert ended.status == SubscriptionStatus.TERMINATED
    with pytest.raises(Rejected) as late:
        provider.revoke_termination(subscription_external_id=basic.external_id)
    assert late.value.code == "already_terminated"


def test_change_billing_cycle(provider: AlefProvider, simulator: AlefSimulator) -> None:
    e3 = next(s for s in provider.list_subscriptions() if s.offer_id == offer(simulator, E3, "P1Y", "monthly"))
    annual = provider.change_billing_cycle(subscription_external_id=e3.external_id, billing_cycle=BillingCycle.ANNUAL)
    assert annual.billing_cycle == BillingCycle.ANNUAL and annual.offer_id == offer(simulator, E3, "P1Y", "annual")
    assert annual.unit_cost_price == Decimal("339.70") and annual.term == "P1Y"
    assert (
        provider.change_billing_cycle(subscription_external_id=e3.external_id, billing_cycle=BillingCycle.ANNUAL)
        == annual
    )
    basic = next(s for s in provider.list_subscriptions() if s.offer_id == offer(simulator, BASIC, "P1M", "monthly"))
    with pytest.raises(Rejected, match="cannot be billed annual"):
        provider.change_billing_cycle(subscription_external_id=basic.external_id, billing_cycle=BillingCycle.ANNUAL)


def test_add_change_and_remove_an_add_on(provider: AlefProvider, simulator: AlefSimulator) -> None:
    exchange = next(s for s in provider.list_subscriptions() if s.product_id == EXCHANGE_1)
    archiving = offer(simulator, ARCHIVING, "P1Y", "monthly")
    added = provider.add_add_on(
        subscription_external_id=exchange.external_id, offer_id=archiving, quantity=2, idempotency_key="add-1"
    )
    assert (added.quantity, added.order_reference, added.status) == (2, "add-1", SubscriptionStatus.ACTIVE)
    assert (
        provider.add_add_on(
            subscription_external_id=exchange.external_id, offer_id=archiving, quantity=2, idempotency_key="add-1"
        ).external_id
        == added.external_id
    )
    assert len(simulator.orders) == 1
    changed = provider.change_add_on_quantity(
        subscription_external_id=exchange.external_id, add_on_external_id=added.external_id, quantity=5
    )
    assert changed.quantity == 5
    provider.remove_add_on(subscription_external_id=exchange.external_id, add_on_external_id=added.external_id)
    old = exchange.add_ons[0]
    provider.remove_add_on(subscription_external_id=exchange.external_id, add_on_external_id=old.external_id)
    after = {a.external_id: a for a in provider.get_subscription(subscription_external_id=exchange.external_id).add_ons}
    assert after[added.external_id].status == SubscriptionStatus.TERMINATED
    assert (
        after[old.external_id].status == SubscriptionStatus.ACTIVE
        and not simulator.subscriptions[old.external_id].auto_renew
    )
    with pytest.raises(NotFound):
        provider.change_add_on_quantity(
            subscription_external_id=exchange.external_id, add_on_external_id=exchange.external_id, quantity=1
        )


def test_async_tenant_creation_polled_to_completion_then_the_order_goes_through(
    provider: AlefProvider, simulator: AlefSimulator, sleeps: list[float]
) -> None:
    tailspin = next(c.external_id for c in provider.list_customers() if c.name == "Tailspin Toys SRL")
    assert provider.check_domain_availability(domain="tailspintoys") is True
    assert provider.check_domain_availability(domain="contoso") is False
    draft = TenantDraft(
        domain_prefix="tailspintoys", first_name="Tudor", last_name="Tail", email="tudor@tailspin.example"
    )
    operation = provider.create_tenant(customer_external_id=tailspin, tenant=draft)
    assert operation.status == OperationStatus.RUNNING and not operation.done
    assert operation.domain == "tailspintoys.onmicrosoft.com"
    basic = offer(simulator, BASIC, "P1M", "monthly")
    with pytest.raises(PendingOperation) as waiting:
        provider.place_order_line(customer_external_id=tailspin, offer_id=basic, quantity=3, idempotency_key="t-1")
    assert waiting.value.retryable
    done = provider.wait_for_operation(operation_id=operation.operation_id, interval_seconds=15)
    assert done.status == OperationStatus.SUCCEEDED and done.tenant_id and done.completed_at is not None
    assert sleeps == [15, 15]  # three polls: the third finds it done
    bought = provider.place_order_line(customer_external_id=tailspin, offer_id=basic, quantity=3, idempotency_key="t-1")
    assert bought.subscription.quantity == 3
    customer = next(c for c in provider.list_customers() if c.external_id == tailspin)
    assert customer.domains == ("tailspintoys.onmicrosoft.com",)


def test_async_tenant_creation_with_a_taken_domain_fails_with_the_reason(
    provider: AlefProvider, simulator: AlefSimulator
) -> None:
    tailspin = next(c.external_id for c in provider.list_customers() if c.name == "Tailspin Toys SRL")
    operation = provider.create_tenant(
        customer_external_id=tailspin,
        tenant=TenantDraft(domain_prefix="northwind", first_name="T", last_name="T", email="t@tailspin.example"),
    )
    simulator.clock_advance(600)
    failed = provider.get_operation(operation_id=operation.operation_id)
    assert failed.status == OperationStatus.FAILED and failed.error_code == "DomainNotAvailable"
    assert "northwind.onmicrosoft.com is not available" in (failed.message or "")
    names = {c.name: c.external_id for c in provider.list_customers()}
    simulator.customers[names["Alpine Ski House SRL"]].address["addressLine1"] = ""
    with pytest.raises(Rejected) as incomplete:
        provider.create_tenant(
            customer_external_id=names["Alpine Ski House SRL"],
            tenant=TenantDraft(domain_prefix="alpineski", first_name="A", last_name="A", email="a@alpine.example"),
        )
    assert incomplete.value.code == "incomplete_address"
    with pytest.raises(Rejected) as exists:
        provider.create_tenant(
            customer_external_id=names["Contoso SRL"],
            tenant=TenantDraft(domain_prefix="contoso2", first_name="A", last_name="A", email="a@contoso.example"),
        )
    assert exists.value.code == "tenant_exists"


# ------------------------------------------------------------------------------------------------
# Simulator control endpoints and scale
# ------------------------------------------------------------------------------------------------


def test_control_endpoints(simulator: AlefSimulator) -> None:
    with httpx.Client(transport=httpx.WSGITransport(app=simulator), base_url="http://simulator") as control:
        seeded = control.post("/_control/seed", json={"kind": "bulk", "companies": 3, "subscriptions_per_company": 4})
        assert (seeded.json()["state"]["customers"], seeded.json()["state"]["subscriptions"]) == (14, 26)
        assert control.post("/_control/inject", json={"kind": "etag_conflict"}).json()["state"]["injections"] == [
            {"kind": "etag_conflict", "operation": None, "remaining": 1}
        ]
        assert control.post("/_control/inject", json={"kind": "bogus"}).status_code == 400
        assert control.post("/_control/clear", json={}).json()["state"]["injections"] == []
        assert control.post("/_control/seed", json={"kind": "taken_domains", "domains": ["Acme"]}).status_code == 200
        assert "acme" in simulator.taken_domains
        assert control.post("/_control/advance_clock", json={"seconds": 60}).status_code == 200
        assert control.post("/_control/expire_tokens", json={}).status_code == 200
        assert control.get("/_control/emails").json() == []
        assert control.post("/_control/reset", json={"seed": False}).json()["state"]["customers"] == 0
        assert control.post("/_control/reset", json={}).json()["state"]["customers"] == 11
        assert control.get("/_control/state").json()["resellers"] == 2
        assert control.get("/_control/nothing").status_code == 405


def test_bulk_seed_pages_through_two_thousand_customers_and_twenty_thousand_subscriptions() -> None:
    simulator = AlefSimulator()
    started = time.perf_counter()
    simulator.seed_bulk(companies=2000, subscriptions_per_company=10)
    seeded_in = time.perf_counter() - started
    with AlefProvider(connection=DEMO_CONNECTION, transport=httpx.WSGITransport(app=simulator)) as provider:
        customers = list(provider.list_customers())
        started = time.perf_counter()
        subscriptions = list(provider.list_subscriptions())
        listed_in = time.perf_counter() - started
    assert len(customers) == 2008
    assert len(subscriptions) == 20011
    assert sum(1 for s in subscriptions if s.customer_external_id == customers[-1].external_id) == 10
    assert simulator.call_counts["list_customers"] == 2 * 5  # 500 a page, listed twice
    assert simulator.call_counts["list_subscriptions"] == 2008
    assert seeded_in < 10 and listed_in < 30


def test_provider_code_does_not_import_django() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, marketplace.providers.alef.adapter, simulators.alef; "
        "print(sorted(name for name in sys.modules if name == 'django' or name.startswith('django.')))"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "[]"


def test_billing_lines_are_the_resellers_own_at_partner_price_one_invoice_a_month(provider, simulator, client):
    from datetime import date

    from marketplace.providers.base import InvoiceChargeType

    today = simulator.now().date()
    start = date(today.year - 1, today.month, 1)
    invoices = provider.list_invoices(period_start=start, period_end=today)

    own_customers = {str(c["id"]) for c in client.list_customers()}
    lines = [line for invoice in invoices for line in invoice.lines]
    assert lines, "the demo reseller's subscriptions are billed"
    assert {line.customer_external_id for line in lines} <= own_customers  # never another reseller's
    for invoice in invoices:
        assert invoice.invoice_id == f"ALEF-{invoice.lines[0].charge_start:%Y%m}"
        assert invoice.total == sum(line.amount for line in invoice.lines)
        assert {f"ALEF-{line.charge_start:%Y%m}" for line in invoice.lines} == {invoice.invoice_id}
    for line in lines:
        assert start <= line.charge_start <= today and line.charge_end >= line.charge_start
        assert line.amount == line.unit_price * line.quantity and line.charge_type == InvoiceChargeType.CYCLE_FEE
        subscription = simulator.subscriptions[line.subscription_external_id]
        assert line.quantity == subscription.quantity and not subscription.is_trial


def test_billing_lines_refuse_a_period_without_dates(client):
    from marketplace.providers.base import Rejected

    with pytest.raises(Rejected, match="periodStart and periodEnd"):
        client._call("GET", "billing/lineitems", operation="list_billing_lines", idempotent=True, payload=False)
