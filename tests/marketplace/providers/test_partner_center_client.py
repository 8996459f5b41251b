"""Partner Center: the wire client, the provider adapter and the simulator, in-process through WSGITransport."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from marketplace.providers.base import (
    AuthenticationFailed,
    BillingCycle,
    Capability,
    CustomerDraft,
    NotFound,
    OrderLineOutcome,
    OrderResult,
    ProviderConnection,
    Rejected,
    SubscriptionStatus,
    Throttled,
    Unavailable,
)
from marketplace.providers.http import RetryPolicy
from marketplace.providers.partner_center.adapter import (
    OrderLine,
    OrderLineFailure,
    PartnerCenterProvider,
    offer_id_for,
    request_id_for,
    split_offer_id,
    subscription_external_id,
)
from marketplace.providers.partner_center.client import PartnerCenterClient, PreconditionFailed
from marketplace.providers.registry import create_provider
from simulators.partner_center import (
    ADATUM_ID,
    BUSINESS_BASIC,
    BUSINESS_PREMIUM,
    BUSINESS_PREMIUM_TRIAL,
    BUSINESS_STANDARD,
    CONTOSO_ID,
    COPILOT,
    DEMO_APPLICATION_ID,
    DEMO_APPLICATION_SECRET,
    DEMO_CONNECTION,
    DEMO_REFRESH_TOKEN,
    FABRIKAM_ID,
    M365_E3,
    M365_E5,
    NORTHWIND_ID,
    PARTNER_DOMAIN,
    PARTNER_TENANT_ID,
    TAILSPIN_ID,
    TEAMS_PHONE,
    PartnerCenterSimulator,
    create_simulator,
)

NO_JITTER = RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=30.0, jitter=0.0)
E5_MONTHLY = "CFQ7TTC0LFLZ:0002|P1M|monthly"
BASIC_MONTHLY = "CFQ7TTC0LH18:0001|P1M|monthly"


@pytest.fixture
def simulator() -> PartnerCenterSimulator:
    return create_simulator()


@pytest.fixture
def sleeps() -> list[float]:
    return []


def make_client(
    simulator: PartnerCenterSimulator,
    sleeps: list[float],
    *,
    refresh_token: str | None = DEMO_REFRESH_TOKEN,
    secret: str = DEMO_APPLICATION_SECRET,
    transport: httpx.BaseTransport | None = None,
    market: str = "DE",
) -> PartnerCenterClient:
    return PartnerCenterClient(
        tenant=PARTNER_TENANT_ID,
        client_id=DEMO_APPLICATION_ID,
        client_secret=secret,
        refresh_token=refresh_token,
        market=market,
        transport=transport or httpx.WSGITransport(app=simulator),
        retry_policy=NO_JITTER,
        sleep=sleeps.append,
    )


@pytest.fixture
def client(simulator: PartnerCenterSimulator, sleeps: list[float]) -> Iterator[PartnerCenterClient]:
    with make_client(simulator, sleeps) as partner_center:
        yield partner_center


def make_provider(
    simulator: PartnerCenterSimulator,
    sleeps: list[float],
    *,
    connection: ProviderConnection = DEMO_CONNECTION,
    transport: httpx.BaseTransport | None = None,
) -> PartnerCenterProvider:
    return PartnerCenterProvider(
        connection=connection,
        transport=transport or httpx.WSGITransport(app=simulator),
        sleep=sleeps.append,
        retry_policy=NO_JITTER,
    )


@pytest.fixture
def provider(simulator: PartnerCenterSimulator, sleeps: list[float]) -> Iterator[PartnerCenterProvider]:
    with make_provider(simulator, sleeps) as partner_center:
        yield partner_center


def seeded(simulator: PartnerCenterSimulator, customer_id: str, sku_key: str, status: str | None = None) -> str:
    """The id of a demo subscription (the first of that SKU for that customer)."""
    return next(
        s.id
        for s in simulator.subscriptions.values()
        if s.customer_id == customer_id and s.sku_key == sku_key and (status is None or s.status == status)
    )


def external(customer_id: str, subscription_id: str) -> str:
    return subscription_external_id(customer_id=customer_id, subscription_id=subscription_id)


class LoseAnswerOnce(httpx.BaseTransport):
    """Delivers matching requests to the simulator, then loses the answer: the write landed, the
    client saw a read timeout. Records the MS-RequestId of every request it forwards."""

    def __init__(self, inner: httpx.BaseTransport, *, method: str, path_suffix: str, times: int = 1) -> None:
        self.inner = inner
        self.method = method
        self.path_suffix = path_suffix
        self.remaining = times
        self.request_ids: list[tuple[str, str | None]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.request_ids.append((request.url.path, request.headers.get("MS-RequestId")))
        response = self.inner.handle_request(request)
        if self.remaining and request.method == self.method and request.url.path.endswith(self.path_suffix):
            self.remaining -= 1
            response.read()
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


# ------------------------------------------------------------------------------------------------
# Sign-in
# ------------------------------------------------------------------------------------------------


def test_registry_builds_the_provider_with_its_capabilities(simulator: PartnerCenterSimulator) -> None:
    built = create_provider(
        slug="partner_center", connection=DEMO_CONNECTION, transport=httpx.WSGITransport(app=simulator)
    )
    assert isinstance(built, PartnerCenterProvider)
    assert built.supports(Capability.SUSPEND) and built.supports(Capability.PLACE_ORDER)
    assert "168 hours" in (built.rule_for(Capability.CHANGE_QUANTITY) or "")
    assert "7 days" in (built.rule_for(Capability.TERMINATE) or "")
    assert built.client.base_url == "https://api.partnercenter.microsoft.com/v1/"
    assert built.client.token_url == f"https://login.microsoftonline.com/{PARTNER_TENANT_ID}/oauth2/v2.0/token"
    built.close()


def test_server_url_moves_api_price_sheet_and_login_to_one_host() -> None:
    client = PartnerCenterClient(
        tenant=PARTNER_DOMAIN, client_id="app", client_secret="s", server_url="http://127.0.0.1:8202/"
    )
    assert client.base_url == "http://127.0.0.1:8202/v1/"
    assert client.pricing_base_url == "http://127.0.0.1:8202"
    assert client.token_url == f"http://127.0.0.1:8202/{PARTNER_DOMAIN}/oauth2/v2.0/token"
    client.close()


def test_app_plus_user_sign_in_sends_bearer_request_and_correlation_ids(
    client: PartnerCenterClient, simulator: PartnerCenterSimulator
) -> None:
    token = client.acquire_token()
    assert token.count(".") == 2  # a JWT
    assert client.app_plus_user
    with client.correlation("11111111-2222-3333-4444-555555555555"):
        response = client._call("GET", f"customers/{CONTOSO_ID}", operation="GetCustomer")
    assert response.headers["MS-CorrelationId"] == "11111111-2222-3333-4444-555555555555"
    assert response.headers["MS-RequestId"]
    assert simulator.call_counts["Token"] == 1


def test_wrong_secret_is_refused_with_entra_explanation(simulator: PartnerCenterSimulator, sleeps: list[float]) -> None:
    with make_client(simulator, sleeps, secret="wrong") as refused:
        with pytest.raises(AuthenticationFailed, match="AADSTS7000215"):
            refused.get_customer(customer_id=CONTOSO_ID)
    assert sleeps == []


def test_revoked_refresh_token_is_refused(simulator: PartnerCenterSimulator, sleeps: list[float]) -> None:
    simulator.revoke_refresh_tokens()
    with make_client(simulator, sleeps) as refused:
        with pytest.raises(AuthenticationFailed, match="invalid_grant"):
            refused.get_customer(customer_id=CONTOSO_ID)


def test_unknown_tenant_is_refused(simulator: PartnerCenterSimulator) -> None:
    with PartnerCenterClient(
        tenant="nobody.onmicrosoft.com",
        client_id=DEMO_APPLICATION_ID,
        client_secret=DEMO_APPLICATION_SECRET,
        transport=httpx.WSGITransport(app=simulator),
    ) as refused:
        with pytest.raises(AuthenticationFailed, match="AADSTS90002"):
            refused.acquire_token()


def test_expired_token_is_renewed_once_and_the_call_repeated(
    client: PartnerCenterClient, simulator: PartnerCenterSimulator
) -> None:
    client.get_customer(customer_id=CONTOSO_ID)
    simulator.expire_tokens()
    assert client.get_customer(customer_id=FABRIKAM_ID)["companyProfile"]["companyName"] == "Fabrikam"
    assert simulator.call_counts["Token"] == 2
    assert simulator.call_counts["GetCustomer"] == 3  # one refused with 401, then repeated


def test_token_expired_by_the_clock_is_renewed(client: PartnerCenterClient, simulator: PartnerCenterSimulator) -> None:
    client.get_customer(customer_id=CONTOSO_ID)
    simulator.clock_advance(2 * 3600)  # the client's own clock still thinks the token is fresh
    client.get_customer(customer_id=CONTOSO_ID)
    assert simulator.call_counts["Token"] == 2


def test_a_token_refused_twice_is_an_authentication_failure(
    client: PartnerCenterClient, simulator: PartnerCenterSimulator
) -> None:
    simulator.inject(kind="token_expiry", operation="GetCustomer", count=2)
    with pytest.raises(AuthenticationFailed, match="fresh access token"):
        client.get_customer(customer_id=CONTOSO_ID)
    assert simulator.call_counts["Token"] == 2
    assert simulator.call_counts["GetCustomer"] == 2


# ------------------------------------------------------------------------------------------------
# Customers and paging
# ------------------------------------------------------------------------------------------------


def test_customers_page_with_continuation_tokens(client: PartnerCenterClient) -> None:
    first = client.get_customers_page(size=2)
    assert first["totalCount"] == 2 and first["attributes"]["objectType"] == "Collection"
    assert [c["companyProfile"]["companyName"] for c in first["items"]] == ["Contoso", "Fabrikam"]
    link = first["links"]["next"]
    assert link["uri"] == "/v1/customers?size=2&seekOperation=Next"
    assert link["headers"][0]["key"] == "MS-ContinuationToken"
    second = client.get_customers_page(size=2, continuation_token=first["continuationToken"])
    assert [c["id"] for c in second["items"]] == [NORTHWIND_ID, ADATUM_ID]
    third = client.get_customers_page(size=2, continuation_token=second["continuationToken"])
    assert [c["id"] for c in third["items"]] == [TAILSPIN_ID]
    assert "next" not in third["links"]
    assert [c["id"] for c in client.iter_customers(page_size=2)] == [
        CONTOSO_ID,
        FABRIKAM_ID,
        NORTHWIND_ID,
        ADATUM_ID,
        TAILSPIN_ID,
    ]
    with pytest.raises(Rejected) as bad:
        client.get_customers_page(size=2, continuation_token="not-a-token")
    assert bad.value.code == "800002"


def test_provider_lists_customers_across_pages(
    provider: PartnerCenterProvider, simulator: PartnerCenterSimulator
) -> None:
    provider.page_size = 2
    customers = list(provider.list_customers())
    assert [c.name for c in customers] == [
        "Contoso",
        "Fabrikam",
        "Northwind Traders",
        "Adatum Corporation",
        "Tailspin Toys",
    ]
    assert simulator.call_counts["GetCustomers"] == 3
    contoso = customers[0]
    assert contoso.external_id == CONTOSO_ID
    assert contoso.domains == ("contoso.onmicrosoft.com",)
    assert (contoso.country, contoso.city, contoso.active) == ("DE", "Berlin", True)
    assert customers[-1].country == "US"


def test_create_customer_and_a_taken_domain(client: PartnerCenterClient, provider: PartnerCenterProvider) -> None:
    draft = CustomerDraft(
        name="Wingtip Toys GmbH",
        email="it@wingtip.example",
        country="DE",
        city="Leipzig",
        address_line="Marktplatz 1",
        postal_code="04109",
        domains=("wingtip-toys.example",),
    )
    created = provider.create_customer(customer=draft)
    assert created.domains == ("wingtiptoys.onmicrosoft.com",)
    assert (created.name, created.email, created.city) == ("Wingtip Toys GmbH", "it@wingtip.example", "Leipzig")
    assert client.get_customer(customer_id=created.external_id)["relationshipToPartner"] == "reseller"
    with pytest.raises(Rejected) as taken:
        provider.create_customer(customer=CustomerDraft(**{**draft.__dict__, "email": "other@wingtip.example"}))
    assert taken.value.code == "409" and "already in use" in taken.value.message


def test_unknown_customer_is_not_found(client: PartnerCenterClient) -> None:
    with pytest.raises(NotFound):
        client.get_customer(customer_id="00000000-0000-0000-0000-000000000000")


# ------------------------------------------------------------------------------------------------
# Catalog and prices
# ------------------------------------------------------------------------------------------------


def test_catalog_products_skus_availabilities(client: PartnerCenterClient) -> None:
    products = {p["id"]: p for p in client.list_products()}
    assert {"CFQ7TTC0LH18", "CFQ7TTC0LFLX", "CFQ7TTC0J1FV", "CFQ7TTC0MM8R"} <= set(products)
    assert products["CFQ7TTC0LFLX"]["productType"]["id"] == "OnlineServicesNCE"
    skus = {s["id"]: s for s in client.list_skus(product_id="CFQ7TTC0LCHC")}
    assert skus["0008"]["isTrial"] is True and skus["0002"]["isTrial"] is False
    copilot = client.list_skus(product_id="CFQ7TTC0MM8R")[0]
    assert copilot["dynamicAttributes"]["isAddon"] is True
    assert M365_E3 in copilot["dynamicAttributes"]["prerequisiteSkus"]
    (availability,) = client.list_availabilities(product_id="CFQ7TTC0LH18", sku_id="0001")
    assert availability["catalogItemId"] == f"{BUSINESS_BASIC}:{availability['id']}"
    assert availability["defaultCurrency"]["code"] == "EUR"
    assert {(t["duration"], t["billingCycle"]) for t in availability["terms"]} == {
        ("P1M", "Monthly"),
        ("P1Y", "Monthly"),
        ("P1Y", "Annual"),
    }


def test_availability_ids_rotate(client: PartnerCenterClient, simulator: PartnerCenterSimulator) -> None:
    (before,) = client.list_availabilities(product_id="CFQ7TTC0LH18", sku_id="0001")
    simulator.rotate_availabilities()
    (after,) = client.list_availabilities(product_id="CFQ7TTC0LH18", sku_id="0001")
    assert before["id"] != after["id"]
    cart = client.create_cart(
        customer_id=CONTOSO_ID,
        line_items=[
            {"catalogItemId": before["catalogItemId"], "quantity": 1, "billingCycle": "monthly", "termDuration": "P1M"}
        ],
    )
    assert cart["lineItems"][0]["error"]["errorCode"] == 10001


def test_price_sheet_in_eur_and_usd(client: PartnerCenterClient) -> None:
    euro = {(r["ProductId"], r["SkuId"], r["TermDuration"], r["BillingPlan"]): r for r in client.get_price_sheet()}
    dollar = {
        (r["ProductId"], r["SkuId"], r["TermDuration"], r["BillingPlan"]): r
        for r in client.get_price_sheet(market="US")
    }
    e3_annual = euro[("CFQ7TTC0LFLX", "0001", "P1Y", "Annual")]
    assert (e3_annual["Currency"], e3_annual["UnitPrice"], e3_annual["ERP Price"]) == ("EUR", "363.96", "404.40")
    assert dollar[("CFQ7TTC0LFLX", "0001", "P1Y", "Annual")]["Currency"] == "USD"
    assert ("CFQ7TTC0LCHC", "0008", "P1M", "None") not in euro  # trials are not sold
    assert euro[("CFQ7TTC0MM8R", "0002", "P1Y", "Monthly")]["Segment"] == "Commercial"


def test_price_sheet_needs_app_plus_user(simulator: PartnerCenterSimulator, sleeps: list[float]) -> None:
    with make_client(simulator, sleeps, refresh_token=None) as app_only:
        assert not app_only.app_plus_user
        assert app_only.get_customer(customer_id=CONTOSO_ID)["id"] == CONTOSO_ID
        with pytest.raises(Rejected, match="App\\+User"):
            app_only.get_price_sheet()
    connection = ProviderConnection(
        region="de",
        username=DEMO_APPLICATION_ID,
        secret=DEMO_APPLICATION_SECRET,
        options={"tenant": PARTNER_TENANT_ID},
    )
    with make_provider(simulator, sleeps, connection=connection) as app_only_provider:
        with pytest.raises(Rejected):
            list(app_only_provider.list_offers())
        records = list(app_only_provider.list_subscriptions(customer_external_id=CONTOSO_ID))
        assert records and all(r.unit_cost_price is None for r in records)


def test_offers_join_catalog_and_price_sheet(provider: PartnerCenterProvider) -> None:
    offers = {o.offer_id: o for o in provider.list_offers()}
    e3 = offers[offer_id_for(product_id="CFQ7TTC0LFLX", sku_id="0001", term_duration="P1Y", billing_cycle="annual")]
    assert (e3.cost_price, e3.suggested_retail_price, e3.currency) == (Decimal("363.96"), Decimal("404.40"), "EUR")
    assert (e3.billing_cycle, e3.term, e3.product_id, e3.sales_price) == (BillingCycle.ANNUAL, "P1Y", M365_E3, None)
    basic = offers[BASIC_MONTHLY]
    assert (basic.cost_price, basic.billing_cycle, basic.term) == (Decimal("6.05"), BillingCycle.MONTHLY, "P1M")
    copilot = offers["CFQ7TTC0MM8R:0002|P1Y|monthly"]
    assert copilot.is_add_on and set(copilot.add_on_parent_product_ids) == {
        BUSINESS_STANDARD,
        BUSINESS_PREMIUM,
        M365_E3,
        M365_E5,
    }
    assert "CFQ7TTC0MM8R:0002|P1M|monthly" not in offers
    assert not any(o.product_id == BUSINESS_PREMIUM_TRIAL for o in offers.values())
    assert all(isinstance(o.cost_price, Decimal) for o in offers.values())
    assert split_offer_id(e3.offer_id) == ("CFQ7TTC0LFLX", "0001", "P1Y", "annual")
    with pytest.raises(Rejected):
        split_offer_id("CFQ7TTC0LFLX:0001")


# ------------------------------------------------------------------------------------------------
# Subscriptions as records
# ------------------------------------------------------------------------------------------------


def test_subscriptions_in_every_demo_state(provider: PartnerCenterProvider, simulator: PartnerCenterSimulator) -> None:
    records = {r.external_id: r for r in provider.list_subscriptions()}
    now = datetime.now(UTC)
    e3 = records[external(CONTOSO_ID, seeded(simulator, CONTOSO_ID, M365_E3))]
    assert (e3.quantity, e3.billing_cycle, e3.term, e3.status, e3.auto_renew) == (
        25,
        BillingCycle.ANNUAL,
        "P1Y",
        SubscriptionStatus.ACTIVE,
        True,
    )
    assert e3.cancellation_allowed_until is not None and e3.cancellation_allowed_until < now  # outside the window
    assert [(a.name, a.quantity) for a in e3.add_ons] == [("Microsoft Teams Phone Standard", 10)]
    assert (e3.unit_cost_price, e3.currency) == (Decimal("363.96"), "EUR")
    basic = records[external(CONTOSO_ID, seeded(simulator, CONTOSO_ID, BUSINESS_BASIC))]
    assert basic.cancellation_allowed_until is not None and basic.cancellation_allowed_until > now  # inside
    trial = records[external(FABRIKAM_ID, seeded(simulator, FABRIKAM_ID, BUSINESS_PREMIUM_TRIAL))]
    assert trial.trial and trial.billing_cycle == BillingCycle.NONE and trial.scheduled_termination_date is not None
    ending = records[external(NORTHWIND_ID, seeded(simulator, NORTHWIND_ID, BUSINESS_STANDARD))]
    assert ending.auto_renew is False and ending.scheduled_termination_date == ending.term_end
    suspended = records[external(NORTHWIND_ID, seeded(simulator, NORTHWIND_ID, M365_E5))]
    assert suspended.status == SubscriptionStatus.SUSPENDED
    cancelled = records[external(ADATUM_ID, seeded(simulator, ADATUM_ID, M365_E3))]
    assert cancelled.status == SubscriptionStatus.TERMINATED and cancelled.cancellation_allowed_until is None
    us = records[external(TAILSPIN_ID, seeded(simulator, TAILSPIN_ID, BUSINESS_STANDARD))]
    assert (us.currency, us.unit_cost_price) == ("USD", Decimal("11.25"))
    assert all(
        not any(r.external_id == a.external_id for r in records.values()) for s in records.values() for a in s.add_ons
    )


def test_subscription_wire_and_add_on_listing(client: PartnerCenterClient, simulator: PartnerCenterSimulator) -> None:
    e3_id = seeded(simulator, CONTOSO_ID, M365_E3)
    wire = client.get_subscription(customer_id=CONTOSO_ID, subscription_id=e3_id)
    assert wire["offerId"].startswith(M365_E3 + ":")
    assert wire["attributes"]["objectType"] == "Subscription" and wire["attributes"]["etag"]
    assert wire["refundableQuantity"] == {"totalQuantity": 0, "details": []}
    assert wire["hasPurchasableAddons"] is True
    (add_on,) = client.list_add_ons(customer_id=CONTOSO_ID, subscription_id=e3_id)
    assert add_on["parentSubscriptionId"] == e3_id and add_on["offerId"].startswith(TEAMS_PHONE)
    everything = client.list_subscriptions(customer_id=CONTOSO_ID)
    assert {s["id"] for s in everything} >= {e3_id, add_on["id"]}
    with pytest.raises(NotFound):
        client.get_subscription(customer_id=FABRIKAM_ID, subscription_id=e3_id)  # another customer's


# ------------------------------------------------------------------------------------------------
# Carts, checkout, orders
# ------------------------------------------------------------------------------------------------


def test_cart_checkout_order_pending_then_completed(
    client: PartnerCenterClient, simulator: PartnerCenterSimulator
) -> None:
    (availability,) = client.list_availabilities(product_id="CFQ7TTC0LFLZ", sku_id="0002")
    line = {
        "id": 0,
        "catalogItemId": availability["catalogItemId"],
        "quantity": 4,
        "billingCycle": "monthly",
        "termDuration": "P1M",
        "friendlyName": "E5 for the board",
    }
    cart = client.create_cart(customer_id=FABRIKAM_ID, line_items=[line])
    assert cart["status"] == "active" and "error" not in cart["lineItems"][0]
    cart = client.update_cart(customer_id=FABRIKAM_ID, cart_id=cart["id"], line_items=[{**line, "quantity": 5}])
    assert client.get_cart(customer_id=FABRIKAM_ID, cart_id=cart["id"])["lineItems"][0]["quantity"] == 5
    result = client.checkout_cart(customer_id=FABRIKAM_ID, cart_id=cart["id"])
    assert result["orderErrors"] == []
    (order,) = result["orders"]
    assert (order["status"], order["currencyCode"], order["lineItems"][0]["quantity"]) == ("pending", "EUR", 5)
    subscription_id = order["lineItems"][0]["subscriptionId"]
    assert client.get_cart(customer_id=FABRIKAM_ID, cart_id=cart["id"])["status"] == "ordered"
    with pytest.raises(Rejected):
        client.checkout_cart(customer_id=FABRIKAM_ID, cart_id=cart["id"])  # already ordered

    # Provisioning finishes on the second read of the new subscription.
    assert client.get_subscription(customer_id=FABRIKAM_ID, subscription_id=subscription_id)["status"] == "pending"
    assert client.get_subscription(customer_id=FABRIKAM_ID, subscription_id=subscription_id)["status"] == "active"
    assert client.get_order(customer_id=FABRIKAM_ID, order_id=order["id"])["status"] == "completed"
    assert order["id"] in {o["id"] for o in client.list_orders(customer_id=FABRIKAM_ID)}
    by_order = client.list_subscriptions(customer_id=FABRIKAM_ID, order_id=order["id"])
    assert [s["id"] for s in by_order] == [subscription_id]


def test_provisioning_also_finishes_with_the_clock(
    client: PartnerCenterClient, simulator: PartnerCenterSimulator
) -> None:
    simulator.reads_to_provision = 99
    (availability,) = client.list_availabilities(product_id="CFQ7TTC0LH18", sku_id="0001")
    cart = client.create_cart(
        customer_id=ADATUM_ID,
        line_items=[
            {
                "catalogItemId": availability["catalogItemId"],
                "quantity": 1,
                "billingCycle": "monthly",
                "termDuration": "P1M",
            }
        ],
    )
    (order,) = client.checkout_cart(customer_id=ADATUM_ID, cart_id=cart["id"])["orders"]
    subscription_id = order["lineItems"][0]["subscriptionId"]
    assert client.get_subscription(customer_id=ADATUM_ID, subscription_id=subscription_id)["status"] == "pending"
    simulator.clock_advance(61)
    assert client.get_subscription(customer_id=ADATUM_ID, subscription_id=subscription_id)["status"] == "active"


def test_cart_line_errors(client: PartnerCenterClient) -> None:
    (availability,) = client.list_availabilities(product_id="CFQ7TTC0LFLX", sku_id="0001")
    cart = client.create_cart(
        customer_id=CONTOSO_ID,
        line_items=[
            {
                "catalogItemId": "CFQ7TTC0XXXX:0001:CFQ7TTC0ABCD",
                "quantity": 1,
                "billingCycle": "monthly",
                "termDuration": "P1M",
            },
            {
                "catalogItemId": availability["catalogItemId"],
                "quantity": 1,
                "billingCycle": "annual",
                "termDuration": "P1M",
            },
            {
                "catalogItemId": availability["catalogItemId"],
                "quantity": 301,
                "billingCycle": "monthly",
                "termDuration": "P1M",
            },
        ],
    )
    assert [line["error"]["errorCode"] for line in cart["lineItems"]] == [10001, 10010, 10015]
    with pytest.raises(Rejected) as empty:
        client.create_cart(customer_id=CONTOSO_ID, line_items=[])
    assert empty.value.code == "800002"


def test_partial_checkout_failure_completes_the_other_lines(
    provider: PartnerCenterProvider, simulator: PartnerCenterSimulator
) -> None:
    simulator.inject(kind="order_error", target=M365_E5)
    results = provider.place_order(
        customer_external_id=FABRIKAM_ID,
        lines=[
            OrderLine(offer_id=BASIC_MONTHLY, quantity=3, idempotency_key="order-7-line-1"),
            OrderLine(offer_id=E5_MONTHLY, quantity=2, idempotency_key="order-7-line-2"),
            OrderLine(offer_id="CFQ7TTC0LH18:0001|P3Y|triennial", quantity=1, idempotency_key="order-7-line-3"),
        ],
    )
    ok, failed, unavailable = results
    assert isinstance(ok, OrderResult) and ok.subscription.quantity == 3
    assert ok.subscription.order_reference == "order-7-line-1"
    assert isinstance(failed, OrderLineFailure)
    assert (failed.code, failed.idempotency_key) == ("10003", "order-7-line-2")
    assert "not available" in failed.message
    assert isinstance(unavailable, OrderLineFailure) and unavailable.code == "offer_unavailable"
    assert simulator.call_counts["Checkout"] == 1
    bought = [s for s in simulator.subscriptions.values() if s.customer_id == FABRIKAM_ID and s.sku_key == M365_E5]
    assert bought == []
    # The failed line can be placed again on its own once the marketplace can deliver it.
    again = provider.place_order_line(
        customer_external_id=FABRIKAM_ID, offer_id=E5_MONTHLY, quantity=2, idempotency_key="order-7-line-2"
    )
    assert again.subscription.quantity == 2
    with pytest.raises(Rejected) as refused:
        provider.place_order_line(
            customer_external_id=FABRIKAM_ID, offer_id=E5_MONTHLY, quantity=400, idempotency_key="order-8-line-1"
        )
    assert refused.value.code == "10015"


def test_place_order_line_is_provisioning_then_active(
    provider: PartnerCenterProvider, simulator: PartnerCenterSimulator
) -> None:
    result = provider.place_order_line(
        customer_external_id=CONTOSO_ID, offer_id=E5_MONTHLY, quantity=7, idempotency_key="order-9-line-1"
    )
    assert result.outcome == OrderLineOutcome.PROVISIONING
    assert result.subscription.status == SubscriptionStatus.PENDING
    assert result.subscription.name == "Microsoft 365 E5"
    assert result.subscription.unit_cost_price == Decimal("59.08")
    _, subscription_id = result.subscription.external_id.split(":")
    assert simulator.subscriptions[subscription_id].friendly_name == "Microsoft 365 E5 [ref:order-9-line-1]"
    found = provider.find_applied_order_line(customer_external_id=CONTOSO_ID, idempotency_key="order-9-line-1")
    assert found is not None and found.status == SubscriptionStatus.ACTIVE


def test_ms_request_id_replay_after_a_timeout_returns_the_first_result(
    simulator: PartnerCenterSimulator, sleeps: list[float]
) -> None:
    lossy = LoseAnswerOnce(httpx.WSGITransport(app=simulator), method="POST", path_suffix="/checkout")
    with make_provider(simulator, sleeps, transport=lossy) as provider:
        result = provider.place_order_line(
            customer_external_id=NORTHWIND_ID, offer_id=E5_MONTHLY, quantity=4, idempotency_key="order-10-line-1"
        )
    assert result.subscription.quantity == 4
    assert simulator.call_counts["Checkout"] == 2  # the lost answer, then the replay
    assert sleeps == [0.5]  # one backoff before re-sending
    checkouts = [request_id for path, request_id in lossy.request_ids if path.endswith("/checkout")]
    assert len(checkouts) == 2 and checkouts[0] == checkouts[1]
    assert checkouts[0] == request_id_for(purpose="checkout", customer_id=NORTHWIND_ID, key="order-10-line-1")
    bought = [s for s in simulator.subscriptions.values() if s.customer_id == NORTHWIND_ID and s.sku_key == M365_E5]
    assert len(bought) == 2  # the suspended demo E5 and exactly one new one


def test_a_replayed_request_id_returns_the_stored_answer(
    client: PartnerCenterClient, simulator: PartnerCenterSimulator
) -> None:
    (availability,) = client.list_availabilities(product_id="CFQ7TTC0LH18", sku_id="0001")
    line = {
        "catalogItemId": availability["catalogItemId"],
        "quantity": 2,
        "billingCycle": "monthly",
        "termDuration": "P1M",
    }
    cart = client.create_cart(customer_id=CONTOSO_ID, line_items=[line], request_id="rid-cart-1")
    first = client.checkout_cart(customer_id=CONTOSO_ID, cart_id=cart["id"], request_id="rid-checkout-1")
    assert client.create_cart(customer_id=CONTOSO_ID, line_items=[line], request_id="rid-cart-1")["id"] == cart["id"]
    second = client.checkout_cart(customer_id=CONTOSO_ID, cart_id=cart["id"], request_id="rid-checkout-1")
    assert second["orders"][0]["id"] == first["orders"][0]["id"]
    assert len(simulator.orders) == 12  # eleven demo orders and this one
    # A different id is a different request: the ordered cart refuses a second checkout.
    with pytest.raises(Rejected):
        client.checkout_cart(customer_id=CONTOSO_ID, cart_id=cart["id"], request_id="rid-checkout-2")
    # Outside the replay window the id is forgotten (the adapter then finds the line by its key).
    simulator.clock_advance(2 * 86400)
    assert client.create_cart(customer_id=CONTOSO_ID, line_items=[line], request_id="rid-cart-1")["id"] != cart["id"]


def test_the_same_key_after_the_replay_window_still_buys_nothing_twice(
    provider: PartnerCenterProvider, simulator: PartnerCenterSimulator
) -> None:
    first = provider.place_order_line(
        customer_external_id=ADATUM_ID, offer_id=E5_MONTHLY, quantity=1, idempotency_key="order-11-line-1"
    )
    simulator.clock_advance(3 * 86400)
    again = provider.place_order_line(
        customer_external_id=ADATUM_ID, offer_id=E5_MONTHLY, quantity=1, idempotency_key="order-11-line-1"
    )
    assert again.subscription.external_id == first.subscription.external_id
    assert again.outcome == OrderLineOutcome.COMPLETED
    assert simulator.call_counts["Checkout"] == 1


def test_availability_rotation_does_not_break_ordering(
    provider: PartnerCenterProvider, simulator: PartnerCenterSimulator
) -> None:
    list(provider.list_offers())
    simulator.rotate_availabilities()
    result = provider.place_order_line(
        customer_external_id=CONTOSO_ID, offer_id=BASIC_MONTHLY, quantity=1, idempotency_key="order-12-line-1"
    )
    assert result.subscription.offer_id == BASIC_MONTHLY


# ------------------------------------------------------------------------------------------------
# PATCH, ETags, NCE rules
# ------------------------------------------------------------------------------------------------


def test_patch_with_a_stale_etag_is_a_precondition_failure(
    client: PartnerCenterClient, simulator: PartnerCenterSimulator
) -> None:
    subscription_id = seeded(simulator, CONTOSO_ID, BUSINESS_BASIC)
    wire = client.get_subscription(customer_id=CONTOSO_ID, subscription_id=subscription_id)
    etag = wire["attributes"]["etag"]
    updated = client.update_subscription(customer_id=CONTOSO_ID, subscription={**wire, "quantity": 12}, etag=etag)
    assert updated["quantity"] == 12 and updated["attributes"]["etag"] != etag
    with pytest.raises(PreconditionFailed) as stale:
        client.update_subscription(customer_id=CONTOSO_ID, subscription={**wire, "quantity": 13}, etag=etag)
    assert stale.value.code == "2055"
    assert simulator.subscriptions[subscription_id].quantity == 12


def test_etag_conflict_is_read_again_and_retried_once(
    provider: PartnerCenterProvider, simulator: PartnerCenterSimulator
) -> None:
    subscription_id = seeded(simulator, CONTOSO_ID, BUSINESS_BASIC)
    simulator.inject(kind="etag_conflict", operation="UpdateSubscription")
    record = provider.change_quantity(subscription_external_id=external(CONTOSO_ID, subscription_id), quantity=14)
    assert record.quantity == 14
    assert simulator.call_counts["UpdateSubscription"] == 2
    assert simulator.call_counts["GetSubscription"] == 2

    simulator.inject(kind="etag_conflict", operation="UpdateSubscription", count=2)
    with pytest.raises(PreconditionFailed):
        provider.change_quantity(subscription_external_id=external(CONTOSO_ID, subscription_id), quantity=15)
    assert simulator.subscriptions[subscription_id].quantity == 14


def test_decrease_outside_the_window_is_refused_with_800090(
    provider: PartnerCenterProvider, simulator: PartnerCenterSimulator
) -> None:
    e3 = external(CONTOSO_ID, seeded(simulator, CONTOSO_ID, M365_E3))
    with pytest.raises(Rejected) as refused:
        provider.change_quantity(subscription_external_id=e3, quantity=20)
    assert refused.value.code == "800090"
    assert "cannot be decreased" in refused.value.message
    # Seats added now get their own 7-day window: they (and only they) can be removed again.
    assert provider.change_quantity(subscription_external_id=e3, quantity=30).quantity == 30
    wire = simulator._subscription_wire(simulator.subscriptions[e3.split(":")[1]])
    assert wire["refundableQuantity"]["totalQuantity"] == 5
    assert provider.change_quantity(subscription_external_id=e3, quantity=26).quantity == 26
    with pytest.raises(Rejected) as again:
        provider.change_quantity(subscription_external_id=e3, quantity=24)
    assert again.value.code == "800090"
    # Eight days on, the new seats are locked in too.
    simulator.clock_advance(8 * 86400)
    with pytest.raises(Rejected):
        provider.change_quantity(subscription_external_id=e3, quantity=25)


def test_cancel_inside_the_window_and_800090_outside(
    client: PartnerCenterClient, provider: PartnerCenterProvider, simulator: PartnerCenterSimulator
) -> None:
    e3_id = seeded(simulator, CONTOSO_ID, M365_E3)
    wire = client.get_subscription(customer_id=CONTOSO_ID, subscription_id=e3_id)
    with pytest.raises(Rejected) as refused:
        client.update_subscription(customer_id=CONTOSO_ID, subscription={**wire, "status": "deleted"})
    assert refused.value.code == "800090"
    # The provider turns that into a non-renewal: the subscription ends with its term.
    ending = provider.terminate(subscription_external_id=external(CONTOSO_ID, e3_id))
    assert (ending.status, ending.auto_renew) == (SubscriptionStatus.ACTIVE, False)
    assert ending.scheduled_termination_date == ending.term_end
    kept = provider.revoke_termination(subscription_external_id=external(CONTOSO_ID, e3_id))
    assert kept.auto_renew and kept.scheduled_termination_date is None

    basic = external(CONTOSO_ID, seeded(simulator, CONTOSO_ID, BUSINESS_BASIC))
    assert provider.terminate(subscription_external_id=basic).status == SubscriptionStatus.TERMINATED
    assert provider.terminate(subscription_external_id=basic).status == SubscriptionStatus.TERMINATED  # retried task
    with pytest.raises(Rejected) as gone:
        provider.revoke_termination(subscription_external_id=basic)
    assert gone.value.code == "already_terminated"


def test_cancelling_a_base_subscription_cancels_its_add_ons(
    provider: PartnerCenterProvider, simulator: PartnerCenterSimulator
) -> None:
    result = provider.place_order_line(
        customer_external_id=CONTOSO_ID,
        offer_id="CFQ7TTC0LFLX:0001|P1Y|monthly",
        quantity=5,
        idempotency_key="order-13-line-1",
    )
    base = result.subscription.external_id
    provider.get_subscription(subscription_external_id=base)  # second read: provisioned
    provider.add_add_on(
        subscription_external_id=base,
        offer_id="CFQ7TTC0J1FV:0001|P1M|monthly",
        quantity=5,
        idempotency_key="order-13-line-2",
    )
    ended = provider.terminate(subscription_external_id=base)
    assert ended.status == SubscriptionStatus.TERMINATED
    assert [a.status for a in ended.add_ons] == [SubscriptionStatus.TERMINATED]


def test_suspend_reactivate_and_invalid_transitions(
    client: PartnerCenterClient, provider: PartnerCenterProvider, simulator: PartnerCenterSimulator
) -> None:
    e5 = external(NORTHWIND_ID, seeded(simulator, NORTHWIND_ID, M365_E5))
    assert provider.reactivate(subscription_external_id=e5).status == SubscriptionStatus.ACTIVE
    assert simulator.subscriptions[e5.split(":")[1]].suspension_reasons == []
    suspended = provider.suspend(subscription_external_id=e5)
    assert suspended.status == SubscriptionStatus.SUSPENDED
    with pytest.raises(Rejected) as frozen:
        provider.change_quantity(subscription_external_id=e5, quantity=6)
    assert frozen.value.code == "800012"
    cancelled_id = seeded(simulator, ADATUM_ID, M365_E3)
    wire = client.get_subscription(customer_id=ADATUM_ID, subscription_id=cancelled_id)
    with pytest.raises(Rejected) as transition:
        client.update_subscription(customer_id=ADATUM_ID, subscription={**wire, "status": "active"})
    assert transition.value.code == "800040"
    assert "from deleted to active" in transition.value.message


def test_trials_cannot_change_quantity_or_billing(
    provider: PartnerCenterProvider, simulator: PartnerCenterSimulator
) -> None:
    trial = external(FABRIKAM_ID, seeded(simulator, FABRIKAM_ID, BUSINESS_PREMIUM_TRIAL))
    with pytest.raises(Rejected) as refused:
        provider.change_quantity(subscription_external_id=trial, quantity=20)
    assert refused.value.code == "800027"
    assert provider.terminate(subscription_external_id=trial).status == SubscriptionStatus.TERMINATED


def test_change_billing_cycle_at_once_within_the_term(
    provider: PartnerCenterProvider, simulator: PartnerCenterSimulator
) -> None:
    e3 = external(CONTOSO_ID, seeded(simulator, CONTOSO_ID, M365_E3))
    monthly = provider.change_billing_cycle(subscription_external_id=e3, billing_cycle=BillingCycle.MONTHLY)
    assert (monthly.billing_cycle, monthly.term) == (BillingCycle.MONTHLY, "P1Y")
    assert monthly.offer_id == "CFQ7TTC0LFLX:0001|P1Y|monthly"
    assert monthly.unit_cost_price == Decimal("30.33")
    basic = external(CONTOSO_ID, seeded(simulator, CONTOSO_ID, BUSINESS_BASIC))
    with pytest.raises(Rejected) as refused:
        provider.change_billing_cycle(subscription_external_id=basic, billing_cycle=BillingCycle.ANNUAL)
    assert refused.value.code == "800002"


def test_auto_renew_next_term_instructions_and_expiry(
    provider: PartnerCenterProvider, simulator: PartnerCenterSimulator
) -> None:
    adatum_basic = external(ADATUM_ID, seeded(simulator, ADATUM_ID, BUSINESS_BASIC))
    wire = simulator._subscription_wire(simulator.subscriptions[adatum_basic.split(":")[1]])
    assert wire["scheduledNextTermInstructions"]["quantity"] == 40
    contoso_e3 = external(CONTOSO_ID, seeded(simulator, CONTOSO_ID, M365_E3))
    provider.schedule_next_term(
        subscription_external_id=contoso_e3, offer_id="CFQ7TTC0LFLZ:0002|P1Y|monthly", quantity=20
    )
    northwind = external(NORTHWIND_ID, seeded(simulator, NORTHWIND_ID, BUSINESS_STANDARD))
    simulator.clock_advance(400 * 86400)
    renewed = provider.get_subscription(subscription_external_id=adatum_basic)
    assert (renewed.billing_cycle, renewed.quantity, renewed.status) == (
        BillingCycle.ANNUAL,
        40,
        SubscriptionStatus.ACTIVE,
    )
    upgraded = provider.get_subscription(subscription_external_id=contoso_e3)
    assert (upgraded.product_id, upgraded.quantity, upgraded.billing_cycle) == (M365_E5, 20, BillingCycle.MONTHLY)
    assert upgraded.cancellation_allowed_until is not None
    expired = provider.get_subscription(subscription_external_id=northwind)
    assert expired.status == SubscriptionStatus.TERMINATED
    auto = provider.set_auto_renew(subscription_external_id=adatum_basic, enabled=False)
    assert auto.auto_renew is False and auto.scheduled_termination_date is not None
    with pytest.raises(Rejected):
        provider.schedule_next_term(
            subscription_external_id=adatum_basic, offer_id="CFQ7TTC0MM8R:0002|P1Y|monthly"
        )  # an add-on cannot be a base subscription's next term


def test_accepted_patch_is_polled_through_its_location(
    client: PartnerCenterClient, simulator: PartnerCenterSimulator, sleeps: list[float]
) -> None:
    subscription_id = seeded(simulator, CONTOSO_ID, BUSINESS_BASIC)
    wire = client.get_subscription(customer_id=CONTOSO_ID, subscription_id=subscription_id)
    simulator.inject(kind="accepted", operation="UpdateSubscription", polls=2)
    done = client.update_subscription(
        customer_id=CONTOSO_ID, subscription={**wire, "quantity": 16}, etag=wire["attributes"]["etag"]
    )
    assert done["quantity"] == 16
    assert simulator.call_counts["GetSubscriptionOperation"] == 3
    assert sleeps == [1.0, 1.0, 1.0]  # Retry-After of each 202


def test_a_change_while_another_is_pending_is_refused(
    client: PartnerCenterClient, simulator: PartnerCenterSimulator, sleeps: list[float]
) -> None:
    subscription_id = seeded(simulator, CONTOSO_ID, BUSINESS_BASIC)
    simulator.inject(kind="accepted", operation="UpdateSubscription", polls=5)
    wire = client.get_subscription(customer_id=CONTOSO_ID, subscription_id=subscription_id)
    raw = client._call(
        "PATCH",
        f"customers/{CONTOSO_ID}/subscriptions/{subscription_id}",
        operation="UpdateSubscription",
        json_body={**wire, "quantity": 11},
    )
    assert raw.status_code == 202 and "/operations/" in raw.headers["Location"]
    with pytest.raises(Rejected) as pending:
        client.update_subscription(customer_id=CONTOSO_ID, subscription={**wire, "quantity": 12})
    assert pending.value.code == "800014"
    # A refused change is refused at once, not after the 202.
    simulator.inject(kind="accepted", operation="UpdateSubscription")
    e3_id = seeded(simulator, CONTOSO_ID, M365_E3)
    e3 = client.get_subscription(customer_id=CONTOSO_ID, subscription_id=e3_id)
    with pytest.raises(Rejected) as refused:
        client.update_subscription(customer_id=CONTOSO_ID, subscription={**e3, "quantity": 1})
    assert refused.value.code == "800090"


# ------------------------------------------------------------------------------------------------
# Add-ons
# ------------------------------------------------------------------------------------------------


def test_add_ons_need_a_prerequisite_parent(provider: PartnerCenterProvider, simulator: PartnerCenterSimulator) -> None:
    basic = external(CONTOSO_ID, seeded(simulator, CONTOSO_ID, BUSINESS_BASIC))
    with pytest.raises(Rejected) as refused:
        provider.add_add_on(
            subscription_external_id=basic, offer_id="CFQ7TTC0MM8R:0002|P1Y|monthly", quantity=1, idempotency_key="a-1"
        )
    assert refused.value.code == "10010" and "cannot be added" in refused.value.message

    premium = external(FABRIKAM_ID, seeded(simulator, FABRIKAM_ID, BUSINESS_PREMIUM))
    added = provider.add_add_on(
        subscription_external_id=premium, offer_id="CFQ7TTC0J1FV:0001|P1M|monthly", quantity=4, idempotency_key="a-2"
    )
    again = provider.add_add_on(
        subscription_external_id=premium, offer_id="CFQ7TTC0J1FV:0001|P1M|monthly", quantity=4, idempotency_key="a-2"
    )
    assert again.external_id == added.external_id
    names = [a.name for a in provider.get_subscription(subscription_external_id=premium).add_ons]
    assert names == ["Microsoft 365 Copilot", "Microsoft Teams Phone Standard"]
    copilot = external(FABRIKAM_ID, seeded(simulator, FABRIKAM_ID, COPILOT))
    with pytest.raises(NotFound):
        provider.change_add_on_quantity(subscription_external_id=basic, add_on_external_id=copilot, quantity=6)
    assert (
        provider.change_add_on_quantity(
            subscription_external_id=premium, add_on_external_id=copilot, quantity=6
        ).quantity
        == 6
    )
    provider.remove_add_on(subscription_external_id=premium, add_on_external_id=copilot)  # inside its window
    statuses = {a.external_id: a.status for a in provider.get_subscription(subscription_external_id=premium).add_ons}
    assert statuses[copilot] == SubscriptionStatus.TERMINATED


# ------------------------------------------------------------------------------------------------
# Throttling, outages, errors
# ------------------------------------------------------------------------------------------------


def test_429_waits_retry_after_then_succeeds(
    client: PartnerCenterClient, simulator: PartnerCenterSimulator, sleeps: list[float]
) -> None:
    simulator.inject(kind="throttle", operation="GetSubscriptions", count=2, retry_after=7)
    assert client.list_subscriptions(customer_id=CONTOSO_ID)
    assert sleeps == [7.0, 7.0]
    assert simulator.call_counts["GetSubscriptions"] == 3


def test_long_retry_after_is_raised_for_the_task_queue(
    client: PartnerCenterClient, simulator: PartnerCenterSimulator, sleeps: list[float]
) -> None:
    simulator.inject(kind="throttle", operation="GetCustomer", retry_after=120)
    with pytest.raises(Throttled) as throttled:
        client.get_customer(customer_id=CONTOSO_ID)
    assert throttled.value.retry_after == 120 and throttled.value.retryable
    assert sleeps == []


def test_throttled_token_endpoint_is_waited_out(
    client: PartnerCenterClient, simulator: PartnerCenterSimulator, sleeps: list[float]
) -> None:
    simulator.inject(kind="throttle", operation="Token", retry_after=2)
    client.get_customer(customer_id=CONTOSO_ID)
    assert sleeps == [2.0] and simulator.call_counts["Token"] == 2


def test_outages_are_retried_and_then_unavailable(
    client: PartnerCenterClient, simulator: PartnerCenterSimulator, sleeps: list[float]
) -> None:
    simulator.inject(kind="unavailable", operation="GetCustomer", count=1)
    assert client.get_customer(customer_id=CONTOSO_ID)["id"] == CONTOSO_ID
    assert sleeps == [0.5]
    simulator.inject(kind="unavailable", operation="GetCustomer", count=4)
    with pytest.raises(Unavailable) as unavailable:
        client.get_customer(customer_id=CONTOSO_ID)
    assert unavailable.value.retryable and unavailable.value.reference


def test_write_applied_before_a_503_is_not_applied_twice(
    provider: PartnerCenterProvider, simulator: PartnerCenterSimulator
) -> None:
    subscription_id = seeded(simulator, CONTOSO_ID, BUSINESS_BASIC)
    before = simulator.subscriptions[subscription_id].version
    simulator.inject(kind="unavailable", operation="UpdateSubscription", apply_first=True)
    record = provider.change_quantity(subscription_external_id=external(CONTOSO_ID, subscription_id), quantity=17)
    assert record.quantity == 17
    assert simulator.call_counts["UpdateSubscription"] == 2
    assert simulator.subscriptions[subscription_id].version == before + 1  # applied once, replayed once


def test_error_envelope_becomes_a_rejection_with_code_and_reference(
    client: PartnerCenterClient, simulator: PartnerCenterSimulator
) -> None:
    simulator.inject(kind="fault", operation="GetOrders", status=400, code=800002, message="The filter is invalid.")
    with pytest.raises(Rejected) as rejected:
        client.list_orders(customer_id=CONTOSO_ID)
    assert rejected.value.code == "800002"
    assert rejected.value.message == "Partner Center GetOrders: The filter is invalid."
    assert rejected.value.reference  # the MS-CorrelationId, for Microsoft support


def test_control_endpoints(simulator: PartnerCenterSimulator) -> None:
    with httpx.Client(transport=httpx.WSGITransport(app=simulator), base_url="http://pc.test") as control:
        assert control.get("/_control/state").json()["customers"] == 5
        assert control.post("/_control/inject", json={"kind": "throttle", "count": 2}).json()["ok"]
        assert control.get("/_control/state").json()["injections"][0]["remaining"] == 2
        assert control.post("/_control/clear", json={}).status_code == 200
        assert control.post("/_control/inject", json={"kind": "bogus"}).status_code == 400
        control.post("/_control/seed", json={"kind": "bulk", "customers": 3, "subscriptions_per_customer": 2})
        assert control.get("/_control/state").json()["customers"] == 8
        control.post("/_control/advance_clock", json={"seconds": 60})
        control.post("/_control/rotate_availabilities", json={})
        assert control.get("/_control/state").json()["availability_generation"] == 1
        control.post("/_control/reset", json={"seed": False})
        assert control.get("/_control/state").json()["customers"] == 0
        assert control.get("/v1/customers").status_code == 401
        assert control.get("/nothing").status_code == 404
    assert datetime.now(UTC) - simulator.now() < timedelta(seconds=5)
