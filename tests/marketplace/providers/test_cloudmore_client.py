"""Cloudmore: the wire client, the provider adapter and the simulator, in-process through WSGITransport."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest

from marketplace.providers.base import (
    AuthenticationFailed,
    BillingCycle,
    Capability,
    CustomerDraft,
    MarketplaceProvider,
    NotFound,
    OrderLineOutcome,
    ProviderBase,
    ProviderConnection,
    Rejected,
    SubscriptionStatus,
    Throttled,
    Unavailable,
    Unsupported,
)
from marketplace.providers.cloudmore.adapter import CloudmoreProvider, split_subscription_id
from marketplace.providers.cloudmore.client import CloudmoreClient, base_url_for
from marketplace.providers.cloudmore.records import (
    DOMAIN_TAKEN_EXPLANATION,
    BillingChargeType,
    TenantDraft,
)
from marketplace.providers.http import RetryPolicy
from marketplace.providers.registry import available_slugs, create_provider
from simulators.cloudmore import (
    ARCHIVING,
    BASIC,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_CONNECTION,
    DEMO_PASSWORD,
    DEMO_RESELLER_ID,
    DEMO_USERNAME,
    E3,
    OTHER_RESELLER_ID,
    TEAMS_PHONE,
    CloudmoreSimulator,
    create_simulator,
)

NO_JITTER = RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=30.0, jitter=0.0)
E3_ANNUAL = f"{E3}:P1Y:Annual"
BASIC_MONTHLY = f"{BASIC}:P1M:Monthly"
TEAMS_PHONE_MONTHLY = f"{TEAMS_PHONE}:P1Y:Monthly"


@pytest.fixture
def simulator() -> CloudmoreSimulator:
    return CloudmoreSimulator()


@pytest.fixture
def sleeps() -> list[float]:
    return []


def make_client(simulator: CloudmoreSimulator, sleeps: list[float], **overrides) -> CloudmoreClient:
    options = {
        "region": "eu",
        "username": DEMO_USERNAME,
        "password": DEMO_PASSWORD,
        "reseller_id": DEMO_RESELLER_ID,
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
        "transport": httpx.WSGITransport(app=simulator),
        "retry_policy": NO_JITTER,
        "sleep": sleeps.append,
        **overrides,
    }
    return CloudmoreClient(**options)


@pytest.fixture
def client(simulator: CloudmoreSimulator, sleeps: list[float]) -> Iterator[CloudmoreClient]:
    with make_client(simulator, sleeps) as cloudmore:
        yield cloudmore


@pytest.fixture
def provider(simulator: CloudmoreSimulator, sleeps: list[float]) -> Iterator[CloudmoreProvider]:
    with CloudmoreProvider(
        connection=DEMO_CONNECTION,
        transport=httpx.WSGITransport(app=simulator),
        sleep=sleeps.append,
        retry_policy=NO_JITTER,
    ) as cloudmore:
        yield cloudmore


def organization_id(client: CloudmoreClient, name: str) -> str:
    return next(str(o["id"]) for o in client.list_organizations() if o["name"] == name)


def subscription_of(client: CloudmoreClient, organization: str, item_code: str) -> dict:
    return next(
        s
        for s in client.list_nce_subscriptions(organization_id=organization_id(client, organization))
        if s["itemCode"] == item_code
    )


def customer_id(provider: CloudmoreProvider, name: str) -> str:
    return next(c.external_id for c in provider.list_customers() if c.name == name)


# ------------------------------------------------------------------------------------------------
# Token: password grant, Basic client authentication, expiry
# ------------------------------------------------------------------------------------------------


def test_base_url_is_the_public_host_or_the_server_url() -> None:
    assert base_url_for(region="eu") == "https://api.cloudmore.com"
    assert base_url_for(region="dev") == "https://api-dev.cloudmore.com"
    assert base_url_for(region="eu", server_url="http://127.0.0.1:8203/") == "http://127.0.0.1:8203"
    with pytest.raises(ValueError, match="Unknown Cloudmore region"):
        base_url_for(region="mars")


def test_token_is_a_password_grant_with_basic_client_authentication(simulator: CloudmoreSimulator) -> None:
    seen: list[httpx.Request] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"access_token": "t0k3n", "expires_in": 86400, "token_type": "Bearer"})

    with make_client(simulator, [], transport=httpx.MockTransport(recording)) as cloudmore:
        assert cloudmore.authenticate() == "t0k3n"
    request = seen[0]
    assert request.url.path == "/connect/token"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    expected = base64.b64encode(f"{DEMO_CLIENT_ID}:{DEMO_CLIENT_SECRET}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    form = dict(httpx.QueryParams(request.content.decode()))
    assert form == {"grant_type": "password", "username": DEMO_USERNAME, "password": DEMO_PASSWORD, "scope": "api"}


def test_the_simulator_also_takes_the_client_in_the_form_body(simulator: CloudmoreSimulator) -> None:
    with httpx.Client(transport=httpx.WSGITransport(app=simulator), base_url="https://api.cloudmore.com") as http:
        answer = http.post(
            "/connect/token",
            data={
                "grant_type": "password",
                "username": DEMO_USERNAME,
                "password": DEMO_PASSWORD,
                "scope": "api",
                "client_id": DEMO_CLIENT_ID,
                "client_secret": DEMO_CLIENT_SECRET,
            },
        )
    assert answer.status_code == 200
    assert answer.json()["expires_in"] == 86400 and answer.json()["token_type"] == "Bearer"


def test_wrong_password_and_wrong_client_secret_are_refused(simulator: CloudmoreSimulator) -> None:
    with make_client(simulator, [], password="nope") as wrong_password:
        with pytest.raises(AuthenticationFailed, match="invalid_username_or_password"):
            list(wrong_password.list_organizations())
    with make_client(simulator, [], client_secret="nope") as wrong_client:
        with pytest.raises(AuthenticationFailed, match="invalid_client"):
            wrong_client.authenticate()


def test_the_token_is_reused_until_it_expires(client: CloudmoreClient, simulator: CloudmoreSimulator) -> None:
    list(client.list_organizations())
    client.list_services()
    assert simulator.call_counts["token"] == 1
    simulator.advance_clock(seconds=25 * 3600)  # the 24 h token ran out on Cloudmore's side
    assert len(list(client.list_organizations())) == 8
    assert simulator.call_counts["token"] == 2


def test_an_expired_token_gets_one_new_token_and_the_call_goes_through(
    client: CloudmoreClient, simulator: CloudmoreSimulator
) -> None:
    list(client.list_organizations())
    simulator.expire_tokens()
    assert len(list(client.list_organizations())) == 8
    assert simulator.call_counts["token"] == 2
    assert simulator.call_counts["list_organizations"] == 2 + 1  # refused once, then re-sent


def test_a_write_refused_for_an_expired_token_is_re_sent_once(
    client: CloudmoreClient, simulator: CloudmoreSimulator
) -> None:
    contoso = organization_id(client, "Contoso AB")
    simulator.inject(kind="token_expiry", operation="create_subscription")
    created = client.create_nce_subscription(
        organization_id=contoso, subscription={"itemCode": BASIC_MONTHLY, "quantity": 2}
    )
    assert created["quantity"] == 2
    assert simulator.call_counts["create_subscription"] == 2
    assert len([s for s in simulator.subscriptions.values() if s.quantity == 2]) == 1


def test_a_token_refused_twice_in_a_row_is_an_authentication_failure(
    client: CloudmoreClient, simulator: CloudmoreSimulator
) -> None:
    simulator.inject(kind="token_expiry", operation="list_services", count=2)
    with pytest.raises(AuthenticationFailed, match="fresh token"):
        client.list_services()


# ------------------------------------------------------------------------------------------------
# Throttling and unavailability
# ------------------------------------------------------------------------------------------------


def test_429_waits_for_retry_after(client: CloudmoreClient, simulator: CloudmoreSimulator, sleeps: list[float]) -> None:
    simulator.inject(kind="throttle", operation="list_services", retry_after=7, count=2)
    assert len(client.list_services()) == 2
    assert sleeps == [7.0, 7.0]


def test_429_on_a_write_is_retried_because_it_was_refused(
    client: CloudmoreClient, simulator: CloudmoreSimulator, sleeps: list[float]
) -> None:
    contoso = organization_id(client, "Contoso AB")
    before = len(simulator.subscriptions)
    simulator.inject(kind="throttle", operation="create_subscription", retry_after=2)
    client.create_nce_subscription(organization_id=contoso, subscription={"itemCode": BASIC_MONTHLY, "quantity": 1})
    assert sleeps == [2.0]
    assert len(simulator.subscriptions) == before + 1


def test_a_long_retry_after_is_handed_to_the_caller(client: CloudmoreClient, simulator: CloudmoreSimulator) -> None:
    simulator.inject(kind="throttle", operation="list_services", retry_after=120)
    with pytest.raises(Throttled) as raised:
        client.list_services()
    assert raised.value.retry_after == 120


def test_5xx_on_reads_is_retried_then_raised(
    client: CloudmoreClient, simulator: CloudmoreSimulator, sleeps: list[float]
) -> None:
    simulator.inject(kind="unavailable", operation="list_services", count=10)
    with pytest.raises(Unavailable):
        client.list_services()
    assert simulator.call_counts["list_services"] == 4
    assert sleeps == [0.5, 1.0, 2.0]


def test_5xx_on_a_write_is_not_sent_again(client: CloudmoreClient, simulator: CloudmoreSimulator) -> None:
    contoso = organization_id(client, "Contoso AB")
    simulator.inject(kind="unavailable", operation="create_subscription", apply_first=True)
    with pytest.raises(Unavailable, match="503"):
        client.create_nce_subscription(
            organization_id=contoso,
            subscription={"itemCode": BASIC_MONTHLY, "quantity": 4, "purchaseOrderNumber": "po-5xx"},
        )
    assert simulator.call_counts["create_subscription"] == 1
    assert [s.quantity for s in simulator.subscriptions.values() if s.purchase_order_number == "po-5xx"] == [4]


# ------------------------------------------------------------------------------------------------
# Every client operation
# ------------------------------------------------------------------------------------------------


def test_organizations_page_and_only_the_resellers_own_are_visible(
    simulator: CloudmoreSimulator, sleeps: list[float]
) -> None:
    with make_client(simulator, sleeps, page_size=3) as cloudmore:
        names = [o["name"] for o in cloudmore.list_organizations()]
    assert names[:3] == ["Contoso AB", "Fabrikam Oy", "Northwind Traders Ltd"]
    assert len(names) == 8 and "Elsewhere Oy" not in names
    assert simulator.call_counts["list_organizations"] == 3  # 3 + 3 + 2


def test_a_server_ignoring_paging_is_read_once() -> None:
    organizations = [{"id": f"o{i}", "name": f"Org {i}"} for i in range(5)]

    def everything(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/connect/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(200, json=organizations)

    for size in (2, 5):
        with CloudmoreClient(
            region="eu",
            username="u",
            password="p",
            reseller_id="r",
            transport=httpx.MockTransport(everything),
            page_size=size,
        ) as cloudmore:
            assert [o["id"] for o in cloudmore.list_organizations()] == [o["id"] for o in organizations]


def test_organization_crud(client: CloudmoreClient, simulator: CloudmoreSimulator) -> None:
    created = client.create_organization(
        organization={
            "name": "Trey Research AB",
            "contact": {"name": "Tina Trey", "email": "tina@trey.example"},
            "address": {"street": "Vasagatan 1", "city": "Stockholm", "zipCode": "111 20", "countryCode": "SE"},
            "segment": "education",
        }
    )
    assert created["segment"] == "Education" and created["notificationEmail"] == "tina@trey.example"
    assert client.get_organization(organization_id=created["id"])["name"] == "Trey Research AB"
    updated = client.update_organization(organization_id=created["id"], organization={"vat": "SE556677889901"})
    assert updated["vat"] == "SE556677889901"
    with pytest.raises(Rejected) as duplicate:
        client.create_organization(organization={"name": "Trey Research AB", "contact": {"email": "x@y.example"}})
    assert duplicate.value.code == "AlreadyExists"
    with pytest.raises(Rejected, match="Contact.Email: The Email field is required"):
        client.create_organization(organization={"name": "No Mail AB"})


def test_unknown_and_foreign_organizations_are_not_found(
    client: CloudmoreClient, simulator: CloudmoreSimulator
) -> None:
    elsewhere = next(o.id for o in simulator.organizations.values() if o.reseller_id == OTHER_RESELLER_ID)
    with pytest.raises(NotFound):
        client.get_organization(organization_id=elsewhere)
    with pytest.raises(NotFound):
        client.get_organization(organization_id="00000000-0000-0000-0000-000000000000")


def test_another_resellers_path_is_forbidden(simulator: CloudmoreSimulator) -> None:
    with make_client(simulator, [], reseller_id=OTHER_RESELLER_ID) as cloudmore:
        with pytest.raises(AuthenticationFailed, match="no access to reseller"):
            list(cloudmore.list_organizations())


def test_services_and_price_lists_per_segment(client: CloudmoreClient) -> None:
    service_id = client.csp_service_id()
    commercial = {row["itemCode"]: row for row in client.get_price_list(service_id=service_id)}
    education = {row["itemCode"]: row for row in client.get_price_list(service_id=service_id, segment="education")}
    charity = {row["itemCode"]: row for row in client.get_price_list(service_id=service_id, segment="charity")}
    row = commercial[E3_ANNUAL]
    assert (row["costPrice"], row["price"], row["retailPrice"]) == (
        Decimal("343.74"),
        Decimal("404.4"),
        Decimal("404.4"),
    )
    assert isinstance(row["costPrice"], Decimal)
    assert education[E3_ANNUAL]["price"] == Decimal("242.64") < charity[E3_ANNUAL]["price"] < row["price"]
    assert commercial[TEAMS_PHONE_MONTHLY]["isAddon"] is True
    assert commercial[TEAMS_PHONE_MONTHLY]["parentProducts"] == [E3, "CFQ7TTC0LCHC:0002"]
    with pytest.raises(Rejected, match="segment"):
        client.get_price_list(service_id=service_id, segment="military")


def test_domain_validation(client: CloudmoreClient) -> None:
    taken = client.validate_domain(domain="contoso")
    assert taken == {"domain": "contoso.onmicrosoft.com", "isAvailable": False, "message": DOMAIN_TAKEN_EXPLANATION}
    assert client.validate_domain(domain="TailspinToys.onmicrosoft.com")["isAvailable"] is True
    with pytest.raises(Rejected, match="letters and numbers"):
        client.validate_domain(domain="tail-spin")


def test_adding_the_csp_service_creates_the_tenant_and_emails_the_admin(
    client: CloudmoreClient, simulator: CloudmoreSimulator
) -> None:
    tailspin = organization_id(client, "Tailspin Toys AB")
    with pytest.raises(NotFound):
        client.get_csp_service(organization_id=tailspin)
    contact = {"firstName": "Tom", "lastName": "Tail", "email": "tom@tailspin.example"}
    service = client.add_csp_service(
        organization_id=tailspin, service={"domainPrefix": "tailspintoys", "contact": contact}
    )
    assert service["domain"] == "tailspintoys.onmicrosoft.com" and service["status"] == "Active"
    assert service["adminUserName"] == "admin@tailspintoys.onmicrosoft.com"
    assert client.get_csp_service(organization_id=tailspin)["tenantId"] == service["tenantId"]
    [email] = simulator.sent_emails
    assert email["to"] == "tom@tailspin.example" and "admin@tailspintoys.onmicrosoft.com" in email["body"]
    users = client.list_csp_users(organization_id=tailspin)
    assert [(u["userName"], u["isAdmin"]) for u in users] == [("admin@tailspintoys.onmicrosoft.com", True)]
    with pytest.raises(Rejected) as again:
        client.add_csp_service(organization_id=tailspin, service={"domainPrefix": "other", "contact": contact})
    assert again.value.code == "AlreadyExists"
    assert client.validate_domain(domain="tailspintoys")["isAvailable"] is False

    user = client.create_csp_user(
        organization_id=tailspin,
        user={"userName": "anna", "firstName": "Anna", "lastName": "Lind", "email": "anna@tailspin.example"},
    )
    assert user["userName"] == "anna@tailspintoys.onmicrosoft.com"
    assert simulator.sent_emails[-1]["to"] == "anna@tailspin.example"


def test_adding_the_csp_service_is_refused_for_an_incomplete_address_or_a_taken_domain(
    client: CloudmoreClient, simulator: CloudmoreSimulator
) -> None:
    contact = {"firstName": "A", "lastName": "B", "email": "a@b.example"}
    alpine = organization_id(client, "Alpine Ski House")
    with pytest.raises(Rejected) as incomplete:
        client.add_csp_service(organization_id=alpine, service={"domainPrefix": "alpineski", "contact": contact})
    assert incomplete.value.code == "IncompleteAddress"
    assert "street, postal code" in incomplete.value.message
    tailspin = organization_id(client, "Tailspin Toys AB")
    with pytest.raises(Rejected) as taken:
        client.add_csp_service(organization_id=tailspin, service={"domainPrefix": "fabrikam", "contact": contact})
    assert (taken.value.code, taken.value.message) == ("DomainNotAvailable", DOMAIN_TAKEN_EXPLANATION)
    assert simulator.sent_emails == [] and len(simulator.csp_services) == 7


def test_nce_subscriptions_carry_prices_windows_and_add_ons(client: CloudmoreClient) -> None:
    e3 = subscription_of(client, "Contoso AB", E3_ANNUAL)
    assert (e3["quantity"], e3["status"], e3["billingFrequency"], e3["termDuration"]) == (25, "Active", "Annual", "P1Y")
    assert e3["costPrice"] == Decimal("343.74") and e3["segment"] == "Commercial"
    teams = subscription_of(client, "Contoso AB", TEAMS_PHONE_MONTHLY)
    assert teams["parentSubscriptionId"] == e3["id"] and teams["isAddon"] is True
    assert client.get_nce_subscription(organization_id=e3["organizationId"], subscription_id=e3["id"])["id"] == e3["id"]
    everything = list(client.list_reseller_nce_subscriptions())
    assert len(everything) == 12 and {s["organizationName"] for s in everything} >= {"Contoso AB", "Woodgrove Kommun"}


def test_buying_nce_subscriptions_and_add_ons(client: CloudmoreClient) -> None:
    contoso = organization_id(client, "Contoso AB")
    created = client.create_nce_subscription(
        organization_id=contoso,
        subscription={"itemCode": E3_ANNUAL, "quantity": 5, "friendlyName": "Sales", "purchaseOrderNumber": "PO-1"},
    )
    assert (created["status"], created["quantity"], created["refundableQuantity"]) == ("Active", 5, 5)
    add_on = client.create_nce_subscription(
        organization_id=contoso,
        subscription={"itemCode": TEAMS_PHONE_MONTHLY, "quantity": 2, "parentSubscriptionId": created["id"]},
    )
    assert add_on["parentSubscriptionId"] == created["id"]
    with pytest.raises(Rejected) as unknown:
        client.create_nce_subscription(organization_id=contoso, subscription={"itemCode": "NOPE:0001:P1Y:Annual"})
    assert unknown.value.code == "InvalidItemCode"
    basic = subscription_of(client, "Contoso AB", BASIC_MONTHLY)
    with pytest.raises(Rejected) as wrong_parent:
        client.create_nce_subscription(
            organization_id=contoso,
            subscription={"itemCode": TEAMS_PHONE_MONTHLY, "quantity": 1, "parentSubscriptionId": basic["id"]},
        )
    assert wrong_parent.value.code == "AddonNotCompatible"
    with pytest.raises(Rejected) as no_tenant:
        client.create_nce_subscription(
            organization_id=organization_id(client, "Tailspin Toys AB"),
            subscription={"itemCode": BASIC_MONTHLY, "quantity": 1},
        )
    assert no_tenant.value.code == "CspServiceMissing"
    with pytest.raises(Rejected, match="between 1 and 300"):
        client.create_nce_subscription(organization_id=contoso, subscription={"itemCode": BASIC_MONTHLY, "quantity": 0})


def test_updating_quantity_status_and_the_nce_decrease_rule(
    client: CloudmoreClient, simulator: CloudmoreSimulator
) -> None:
    e3 = subscription_of(client, "Contoso AB", E3_ANNUAL)  # bought 200 days ago
    ids = {"organization_id": e3["organizationId"], "subscription_id": e3["id"]}
    assert client.update_nce_subscription(**ids, changes={"quantity": 30})["quantity"] == 30
    assert client.update_nce_subscription(**ids, changes={"quantity": 27})["quantity"] == 27  # the new seats refund
    with pytest.raises(Rejected) as decrease:
        client.update_nce_subscription(**ids, changes={"quantity": 20})
    assert decrease.value.code == "QuantityDecreaseNotAllowed"
    suspended = client.update_nce_subscription(**ids, changes={"status": "Suspended"})
    assert suspended["status"] == "Suspended"
    teams = subscription_of(client, "Contoso AB", TEAMS_PHONE_MONTHLY)
    assert teams["status"] == "Suspended"  # add-ons follow their base
    with pytest.raises(Rejected, match="suspended subscription's quantity"):
        client.update_nce_subscription(**ids, changes={"quantity": 28})
    assert client.update_nce_subscription(**ids, changes={"status": "Active"})["status"] == "Active"
    with pytest.raises(Rejected) as frequency:
        client.update_nce_subscription(**ids, changes={"billingFrequency": "Monthly"})
    assert frequency.value.code == "NotChangeable"
    assert client.update_nce_subscription(**ids, changes={"autoRenew": False})["autoRenew"] is False


def test_delete_only_inside_the_cancellation_window(client: CloudmoreClient, simulator: CloudmoreSimulator) -> None:
    basic = subscription_of(client, "Contoso AB", BASIC_MONTHLY)  # bought 3 days ago
    e3 = subscription_of(client, "Contoso AB", E3_ANNUAL)
    with pytest.raises(Rejected) as outside:
        client.delete_nce_subscription(organization_id=e3["organizationId"], subscription_id=e3["id"])
    assert outside.value.code == "CancellationWindowExpired"
    assert "7 days (168 hours)" in outside.value.message
    client.delete_nce_subscription(organization_id=basic["organizationId"], subscription_id=basic["id"])
    assert simulator.subscriptions[basic["id"]].status == "Deleted"
    with pytest.raises(Rejected, match="deleted"):
        client.delete_nce_subscription(organization_id=basic["organizationId"], subscription_id=basic["id"])


def test_renewal_and_expiry_at_the_end_of_the_term(client: CloudmoreClient, simulator: CloudmoreSimulator) -> None:
    before = subscription_of(client, "Contoso AB", BASIC_MONTHLY)
    simulator.advance_clock(seconds=70 * 86400)  # Northwind's standard (auto-renew off) ends, Contoso's renews
    assert subscription_of(client, "Northwind Traders Ltd", "CFQ7TTC0LDPB:0001:P1Y:Annual")["status"] == "Expired"
    renewed = subscription_of(client, "Contoso AB", BASIC_MONTHLY)
    assert renewed["status"] == "Active" and renewed["startDate"] >= before["endDate"] > before["startDate"]
    assert renewed["cancellationAllowedUntilDate"] > before["cancellationAllowedUntilDate"]


def test_monthly_billing_report_is_polled_until_ready(
    client: CloudmoreClient, simulator: CloudmoreSimulator, sleeps: list[float]
) -> None:
    today = simulator.now().date()
    contoso = organization_id(client, "Contoso AB")
    report = client.monthly_billing_per_organization(year=today.year, month=today.month, organization_id=contoso)
    assert sleeps == [1.0]  # one 202 with Retry-After: 1, then the report
    [organization] = report["organizations"]
    lines = {s["itemCode"]: s["items"] for s in organization["subscriptions"]}
    basic_line = lines[BASIC_MONTHLY][0]
    assert basic_line["type"] in ("ProRate", "CycleFee") and basic_line["quantity"] == 10
    assert lines[TEAMS_PHONE_MONTHLY][0]["type"] == "CycleFee"
    assert organization["total"] == sum(s["total"] for s in organization["subscriptions"])
    simulator.report_polls = 40
    with pytest.raises(Unavailable, match="not ready after 3 polls"):
        client.monthly_billing_per_organization(year=today.year, month=today.month, max_polls=3)


# ------------------------------------------------------------------------------------------------
# The provider adapter
# ------------------------------------------------------------------------------------------------


def test_registry_builds_the_cloudmore_provider_from_the_demo_connection() -> None:
    assert "cloudmore" in available_slugs()
    provider = create_provider(
        slug="cloudmore", connection=DEMO_CONNECTION, transport=httpx.WSGITransport(app=create_simulator())
    )
    with provider:
        assert isinstance(provider, MarketplaceProvider) and isinstance(provider, CloudmoreProvider)
        assert len(list(provider.list_customers())) == 8


def test_a_connection_without_the_reseller_id_is_refused() -> None:
    with pytest.raises(ValueError, match="reseller id"):
        CloudmoreProvider(connection=ProviderConnection(region="eu", username="u", secret="s"))


def test_capabilities_rules_and_the_refused_billing_cycle_change(provider: CloudmoreProvider) -> None:
    assert provider.supports(Capability.CREATE_TENANT) and provider.supports(Capability.SUSPEND)
    assert not provider.supports(Capability.CHANGE_BILLING_CYCLE)
    assert "billing frequency" in provider.rule_for(Capability.CHANGE_BILLING_CYCLE)
    assert "7 days" in provider.rule_for(Capability.CHANGE_QUANTITY)
    subscription = next(iter(provider.list_subscriptions()))
    with pytest.raises(Unsupported) as refused:
        provider.change_billing_cycle(
            subscription_external_id=subscription.external_id, billing_cycle=BillingCycle.MONTHLY
        )
    assert refused.value.capability == Capability.CHANGE_BILLING_CYCLE
    after = provider.get_subscription(subscription_external_id=subscription.external_id)
    assert after.billing_cycle == subscription.billing_cycle


def test_every_declared_capability_is_implemented() -> None:
    methods = {
        Capability.LIST_CUSTOMERS: "list_customers",
        Capability.LIST_OFFERS: "list_offers",
        Capability.LIST_SUBSCRIPTIONS: "list_subscriptions",
        Capability.CREATE_CUSTOMER: "create_customer",
        Capability.PLACE_ORDER: "place_order_line",
        Capability.CHANGE_QUANTITY: "change_quantity",
        Capability.SUSPEND: "suspend",
        Capability.REACTIVATE: "reactivate",
        Capability.TERMINATE: "terminate",
        Capability.REVOKE_TERMINATION: "revoke_termination",
        Capability.ADD_ADD_ON: "add_add_on",
        Capability.CHANGE_ADD_ON: "change_add_on_quantity",
        Capability.REMOVE_ADD_ON: "remove_add_on",
        Capability.CREATE_TENANT: "create_tenant",
        Capability.LIST_INVOICE_LINES: "list_invoice_lines",
    }
    for capability in CloudmoreProvider.capabilities:
        method = methods[capability]
        assert getattr(CloudmoreProvider, method) is not getattr(ProviderBase, method, None), capability


def test_list_customers(provider: CloudmoreProvider) -> None:
    customers = {c.name: c for c in provider.list_customers()}
    contoso = customers["Contoso AB"]
    assert (contoso.country, contoso.city, contoso.domains) == ("SE", "Stockholm", ("contoso.example",))
    assert contoso.email == "billing@contoso.example" and contoso.active
    assert customers["Northwind Traders Ltd"].country == "GB"


def test_list_offers_with_prices_and_add_on_parents(provider: CloudmoreProvider) -> None:
    offers = {o.offer_id: o for o in provider.list_offers()}
    e3 = offers[E3_ANNUAL]
    assert (e3.product_id, e3.billing_cycle, e3.term, e3.currency) == (E3, BillingCycle.ANNUAL, "P1Y", "EUR")
    assert (e3.cost_price, e3.sales_price, e3.suggested_retail_price) == (
        Decimal("343.74"),
        Decimal("404.40"),
        Decimal("404.40"),
    )
    assert offers[TEAMS_PHONE_MONTHLY].is_add_on and E3 in offers[TEAMS_PHONE_MONTHLY].add_on_parent_product_ids
    assert offers[f"{BASIC}:P1M:Monthly"].billing_cycle == BillingCycle.MONTHLY
    education = {o.offer_id: o for o in provider.list_offers_for_segment(segment="education")}
    assert education[E3_ANNUAL].sales_price < e3.sales_price


def test_list_subscriptions_maps_states_and_nests_add_ons(provider: CloudmoreProvider) -> None:
    subscriptions = list(provider.list_subscriptions())
    assert len(subscriptions) == 10
    by_name = {(s.customer_external_id, s.offer_id): s for s in subscriptions}
    contoso = customer_id(provider, "Contoso AB")
    e3 = by_name[(contoso, E3_ANNUAL)]
    assert [a.offer_id for a in e3.add_ons] == [TEAMS_PHONE_MONTHLY]
    assert e3.add_ons[0].external_id.startswith(f"{contoso}:")
    assert e3.assigned == 19 and e3.auto_renew and e3.cancellation_allowed_until is not None
    statuses = {s.name + "/" + s.offer_id: s for s in subscriptions}
    northwind = [s for s in subscriptions if s.customer_external_id == customer_id(provider, "Northwind Traders Ltd")]
    standard = next(s for s in northwind if s.name == "Microsoft 365 Business Standard")
    assert standard.status == SubscriptionStatus.ACTIVE and not standard.auto_renew
    assert standard.scheduled_termination_date == standard.term_end
    assert next(s for s in northwind if s.name == "Microsoft 365 Business Basic").status == SubscriptionStatus.SUSPENDED
    assert any(s.status == SubscriptionStatus.TERMINATED for s in statuses.values())
    only_contoso = list(provider.list_subscriptions(customer_external_id=contoso))
    assert {s.offer_id for s in only_contoso} == {E3_ANNUAL, BASIC_MONTHLY}
    assert provider.get_subscription(subscription_external_id=e3.external_id) == e3


def test_create_customer(provider: CloudmoreProvider, simulator: CloudmoreSimulator) -> None:
    record = provider.create_customer(
        customer=CustomerDraft(
            name="Wingtip Toys AB",
            email="it@wingtip.example",
            country="se",
            city="Lund",
            address_line="Stora Södergatan 2",
            postal_code="222 23",
            domains=("wingtip.example",),
            vat_id="SE556000111201",
        )
    )
    assert (record.name, record.country, record.vat_id, record.domains) == (
        "Wingtip Toys AB",
        "SE",
        "SE556000111201",
        ("wingtip.example",),
    )
    assert simulator.organizations[record.external_id].address["zipCode"] == "222 23"


def test_place_order_line_find_it_and_never_buy_twice(
    provider: CloudmoreProvider, simulator: CloudmoreSimulator
) -> None:
    fabrikam = customer_id(provider, "Fabrikam Oy")
    assert provider.find_applied_order_line(customer_external_id=fabrikam, idempotency_key="order-7-line-1") is None
    result = provider.place_order_line(
        customer_external_id=fabrikam, offer_id=E3_ANNUAL, quantity=6, idempotency_key="order-7-line-1"
    )
    assert result.outcome == OrderLineOutcome.COMPLETED
    assert (result.subscription.quantity, result.subscription.order_reference) == (6, "order-7-line-1")
    found = provider.find_applied_order_line(customer_external_id=fabrikam, idempotency_key="order-7-line-1")
    assert found == result.subscription
    again = provider.place_order_line(
        customer_external_id=fabrikam, offer_id=E3_ANNUAL, quantity=6, idempotency_key="order-7-line-1"
    )
    assert again.subscription.external_id == result.subscription.external_id
    assert simulator.call_counts["create_subscription"] == 1


def test_a_write_applied_before_a_5xx_is_found_instead_of_bought_twice(
    provider: CloudmoreProvider, simulator: CloudmoreSimulator
) -> None:
    fabrikam = customer_id(provider, "Fabrikam Oy")
    simulator.inject(kind="unavailable", operation="create_subscription", apply_first=True)
    with pytest.raises(Unavailable):
        provider.place_order_line(
            customer_external_id=fabrikam, offer_id=BASIC_MONTHLY, quantity=3, idempotency_key="order-8-line-1"
        )
    retried = provider.place_order_line(
        customer_external_id=fabrikam, offer_id=BASIC_MONTHLY, quantity=3, idempotency_key="order-8-line-1"
    )
    assert retried.subscription.quantity == 3
    assert simulator.call_counts["create_subscription"] == 1


def test_change_quantity_suspend_and_reactivate(provider: CloudmoreProvider) -> None:
    contoso = customer_id(provider, "Contoso AB")
    e3 = next(s for s in provider.list_subscriptions(customer_external_id=contoso) if s.offer_id == E3_ANNUAL)
    assert provider.change_quantity(subscription_external_id=e3.external_id, quantity=40).quantity == 40
    with pytest.raises(Rejected, match="cannot be decreased"):
        provider.change_quantity(subscription_external_id=e3.external_id, quantity=10)
    suspended = provider.suspend(subscription_external_id=e3.external_id)
    assert suspended.status == SubscriptionStatus.SUSPENDED
    assert suspended.add_ons[0].status == SubscriptionStatus.SUSPENDED
    assert provider.reactivate(subscription_external_id=e3.external_id).status == SubscriptionStatus.ACTIVE


def test_terminate_inside_the_window_ends_at_once_outside_at_the_term_end(provider: CloudmoreProvider) -> None:
    contoso = customer_id(provider, "Contoso AB")
    mine = {s.offer_id: s for s in provider.list_subscriptions(customer_external_id=contoso)}
    ended = provider.terminate(subscription_external_id=mine[BASIC_MONTHLY].external_id, reason="not needed")
    assert ended.status == SubscriptionStatus.TERMINATED
    with pytest.raises(Rejected) as too_late:
        provider.revoke_termination(subscription_external_id=ended.external_id)
    assert too_late.value.code == "already_terminated"
    scheduled = provider.terminate(subscription_external_id=mine[E3_ANNUAL].external_id)
    assert scheduled.status == SubscriptionStatus.ACTIVE and not scheduled.auto_renew
    assert scheduled.scheduled_termination_date == scheduled.term_end
    revoked = provider.revoke_termination(subscription_external_id=scheduled.external_id)
    assert revoked.auto_renew and revoked.scheduled_termination_date is None
    assert provider.revoke_termination(subscription_external_id=scheduled.external_id) == revoked


def test_add_change_and_remove_an_add_on(provider: CloudmoreProvider, simulator: CloudmoreSimulator) -> None:
    fabrikam = customer_id(provider, "Fabrikam Oy")
    exchange = next(
        s for s in provider.list_subscriptions(customer_external_id=fabrikam) if s.name == "Exchange Online (Plan 1)"
    )
    archiving_offer = f"{ARCHIVING}:P1Y:Monthly"
    old = exchange.add_ons[0]
    added = provider.add_add_on(
        subscription_external_id=exchange.external_id, offer_id=archiving_offer, quantity=2, idempotency_key="ao-1"
    )
    assert (added.quantity, added.order_reference, added.status) == (2, "ao-1", SubscriptionStatus.ACTIVE)
    assert (
        provider.add_add_on(
            subscription_external_id=exchange.external_id, offer_id=archiving_offer, quantity=2, idempotency_key="ao-1"
        )
        == added
    )
    assert simulator.call_counts["create_subscription"] == 1
    changed = provider.change_add_on_quantity(
        subscription_external_id=exchange.external_id, add_on_external_id=added.external_id, quantity=4
    )
    assert changed.quantity == 4
    provider.remove_add_on(subscription_external_id=exchange.external_id, add_on_external_id=added.external_id)
    provider.remove_add_on(subscription_external_id=exchange.external_id, add_on_external_id=old.external_id)
    after = {a.external_id: a for a in provider.get_subscription(subscription_external_id=exchange.external_id).add_ons}
    assert after[added.external_id].status == SubscriptionStatus.TERMINATED  # inside the window: at once
    old_wire = simulator.subscriptions[split_subscription_id(old.external_id)[1]]
    assert old_wire.status == "Active" and old_wire.auto_renew is False  # outside: at the term end
    with pytest.raises(NotFound):
        provider.change_add_on_quantity(
            subscription_external_id=exchange.external_id, add_on_external_id=exchange.external_id, quantity=1
        )
    with pytest.raises(Rejected, match="cannot be added"):
        provider.add_add_on(
            subscription_external_id=exchange.external_id,
            offer_id=TEAMS_PHONE_MONTHLY,
            quantity=1,
            idempotency_key="ao-2",
        )


def test_bad_subscription_ids_are_not_found(provider: CloudmoreProvider) -> None:
    with pytest.raises(NotFound, match="not a Cloudmore subscription id"):
        provider.get_subscription(subscription_external_id="abc")
    contoso = customer_id(provider, "Contoso AB")
    e3 = next(s for s in provider.list_subscriptions(customer_external_id=contoso) if s.offer_id == E3_ANNUAL)
    with pytest.raises(NotFound, match="add-on"):
        provider.get_subscription(subscription_external_id=e3.add_ons[0].external_id)


# ------------------------------------------------------------------------------------------------
# Cloudmore's Add O365 CSP Direct service
# ------------------------------------------------------------------------------------------------


def test_the_tenant_form_is_pre_filled_from_the_organization(provider: CloudmoreProvider) -> None:
    tailspin = customer_id(provider, "Tailspin Toys AB")
    assert provider.tenant_form_defaults(customer_external_id=tailspin) == TenantDraft(
        domain_prefix="tailspin",
        first_name="Alex",
        last_name="Admin",
        email="it@tailspin.example",
        phone="+46 8 123 456",
    )
    assert provider.missing_address_fields(customer_external_id=tailspin) == ()
    alpine = customer_id(provider, "Alpine Ski House")
    assert provider.missing_address_fields(customer_external_id=alpine) == ("street", "postal code")


def test_domain_check_and_the_taken_domain_explanation(provider: CloudmoreProvider) -> None:
    assert provider.check_domain_availability(domain="tailspintoys") is True
    assert provider.check_domain_availability(domain="contoso") is False
    availability = provider.domain_availability(domain="contoso.onmicrosoft.com")
    assert (availability.domain, availability.message) == ("contoso.onmicrosoft.com", DOMAIN_TAKEN_EXPLANATION)
    tailspin = customer_id(provider, "Tailspin Toys AB")
    draft = provider.tenant_form_defaults(customer_external_id=tailspin)
    with pytest.raises(Rejected) as taken:
        provider.create_tenant(
            customer_external_id=tailspin,
            tenant=TenantDraft(
                domain_prefix="contoso", first_name=draft.first_name, last_name=draft.last_name, email=draft.email
            ),
        )
    assert (taken.value.code, taken.value.message) == ("domain_taken", DOMAIN_TAKEN_EXPLANATION)


def test_an_incomplete_address_refuses_the_tenant(provider: CloudmoreProvider, simulator: CloudmoreSimulator) -> None:
    alpine = customer_id(provider, "Alpine Ski House")
    draft = TenantDraft(domain_prefix="alpineskihouse", first_name="Ada", last_name="Alp", email="ada@alpine.example")
    with pytest.raises(Rejected) as refused:
        provider.create_tenant(customer_external_id=alpine, tenant=draft)
    assert refused.value.code == "incomplete_address"
    assert "street, postal code missing" in refused.value.message
    assert simulator.call_counts["add_csp"] == 0
    provider.client.update_organization(
        organization_id=alpine, organization={"address": {"street": "Storlien 3", "zipCode": "837 52"}}
    )
    assert provider.create_tenant(customer_external_id=alpine, tenant=draft).domain == "alpineskihouse.onmicrosoft.com"


def test_tenant_creation_shows_the_tenant_at_once_emails_the_admin_and_charges_nothing(
    provider: CloudmoreProvider, simulator: CloudmoreSimulator
) -> None:
    tailspin = customer_id(provider, "Tailspin Toys AB")
    assert provider.get_tenant(customer_external_id=tailspin) is None
    draft = TenantDraft(
        domain_prefix="tailspintoys", first_name="Tom", last_name="Tail", email="tom@tailspin.example", phone=None
    )
    tenant = provider.create_tenant(customer_external_id=tailspin, tenant=draft)
    assert (tenant.domain, tenant.status, tenant.customer_external_id) == (
        "tailspintoys.onmicrosoft.com",
        "Active",
        tailspin,
    )
    assert tenant.admin_user_name == "admin@tailspintoys.onmicrosoft.com"
    assert tenant.credentials_sent_to == "tom@tailspin.example"
    assert provider.get_tenant(customer_external_id=tailspin) == tenant
    assert [e["to"] for e in simulator.sent_emails] == ["tom@tailspin.example"]
    assert "Password:" in simulator.sent_emails[0]["body"]
    [admin] = provider.list_tenant_users(customer_external_id=tailspin)
    assert admin.is_admin and admin.email == "tom@tailspin.example"
    month = simulator.now().date().replace(day=1)
    report = provider.billing_report(customer_external_id=tailspin, month=month)
    assert report.lines == () and report.total == Decimal("0")
    with pytest.raises(Rejected) as twice:
        provider.create_tenant(customer_external_id=tailspin, tenant=draft)
    assert twice.value.code == "tenant_exists"
    # With the tenant in place the customer can buy.
    bought = provider.place_order_line(
        customer_external_id=tailspin, offer_id=BASIC_MONTHLY, quantity=5, idempotency_key="tailspin-1"
    )
    assert bought.subscription.status == SubscriptionStatus.ACTIVE
    user = provider.create_tenant_user(
        customer_external_id=tailspin, user_name="lisa", first_name="Lisa", last_name="L", email="lisa@tailspin.example"
    )
    assert user.user_name == "lisa@tailspintoys.onmicrosoft.com" and not user.is_admin


def test_billing_report_records(provider: CloudmoreProvider, simulator: CloudmoreSimulator) -> None:
    contoso = customer_id(provider, "Contoso AB")
    month = simulator.now().date()
    report = provider.billing_report(customer_external_id=contoso, month=month)
    assert report.month == month.replace(day=1) and report.currency == "EUR" and report.customer_name == "Contoso AB"
    types = {line.offer_id: line.charge_type for line in report.lines}
    assert types[TEAMS_PHONE_MONTHLY] == BillingChargeType.CYCLE_FEE
    assert sum(line.amount for line in report.lines) == report.total
    assert all(line.cost_amount is not None and line.cost_amount <= line.amount for line in report.lines)
    teams = next(line for line in report.lines if line.offer_id == TEAMS_PHONE_MONTHLY)
    assert (teams.quantity, teams.unit_price, teams.amount) == (10, Decimal("8.40"), Decimal("84.00"))
    assert split_subscription_id(teams.subscription_external_id)[0] == contoso
    assert teams.period_start == month.replace(day=1)
    earlier = provider.billing_report(customer_external_id=contoso, month=date(2001, 1, 1))
    assert earlier.lines == ()


# ------------------------------------------------------------------------------------------------
# Simulator control endpoints and scale
# ------------------------------------------------------------------------------------------------


def test_control_endpoints(simulator: CloudmoreSimulator) -> None:
    with httpx.Client(transport=httpx.WSGITransport(app=simulator), base_url="http://simulator") as control:
        seeded = control.post("/_control/seed", json={"kind": "bulk", "companies": 3, "subscriptions_per_company": 4})
        assert (seeded.json()["state"]["organizations"], seeded.json()["state"]["subscriptions"]) == (12, 25)
        injected = control.post("/_control/inject", json={"kind": "throttle", "operation": "list_services"})
        assert injected.json()["state"]["injections"] == [
            {"kind": "throttle", "operation": "list_services", "remaining": 1}
        ]
        assert control.post("/_control/inject", json={"kind": "bogus"}).status_code == 400
        assert control.post("/_control/clear", json={}).json()["state"]["injections"] == []
        assert control.post("/_control/seed", json={"kind": "taken_domains", "domains": ["Acme"]}).status_code == 200
        assert "acme" in simulator.taken_domains
        assert control.post("/_control/clock_advance", json={"seconds": 60}).status_code == 200
        assert control.post("/_control/expire_tokens", json={}).status_code == 200
        assert control.get("/_control/emails").json() == []
        assert control.post("/_control/reset", json={"seed": False}).json()["state"]["organizations"] == 0
        assert control.post("/_control/reset", json={}).json()["state"]["organizations"] == 9
        assert control.get("/_control/state").json()["resellers"] == 2
        not_found = control.get("/api/nothing")
        assert not_found.status_code == 404 and not_found.json()["status"] == 404
        assert control.delete(f"/api/resellers/{DEMO_RESELLER_ID}/organizations").status_code == 405
        assert control.get("/connect/token").status_code == 405


def test_routes_are_case_insensitive(client: CloudmoreClient, simulator: CloudmoreSimulator) -> None:
    token = client.authenticate()
    with httpx.Client(transport=httpx.WSGITransport(app=simulator), base_url="https://api.cloudmore.com") as http:
        answer = http.get(
            f"/api/resellers/{DEMO_RESELLER_ID.upper()}/Organizations", headers={"Authorization": f"Bearer {token}"}
        )
    assert answer.status_code == 200 and len(answer.json()) == 8


def test_bulk_seed_pages_through_two_thousand_organizations_and_twenty_thousand_subscriptions() -> None:
    simulator = CloudmoreSimulator()
    started = time.perf_counter()
    simulator.seed_bulk(companies=2000, subscriptions_per_company=10)
    seeded_in = time.perf_counter() - started
    with CloudmoreProvider(connection=DEMO_CONNECTION, transport=httpx.WSGITransport(app=simulator)) as provider:
        customers = list(provider.list_customers())
        started = time.perf_counter()
        subscriptions = list(provider.list_subscriptions())
        listed_in = time.perf_counter() - started
    assert len(customers) == 2008
    assert len(subscriptions) == 20010
    assert sum(1 for s in subscriptions if s.customer_external_id == customers[-1].external_id) == 10
    assert simulator.call_counts["list_organizations"] == 5  # 500 a page
    assert simulator.call_counts["list_all_subscriptions"] == 41
    assert seeded_in < 10 and listed_in < 30


def test_provider_code_does_not_import_django() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, marketplace.providers.cloudmore.adapter, simulators.cloudmore; "
        "print(sorted(name for name in sys.modules if name == 'django' or name.startswith('django.')))"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "[]"


def test_the_demo_connection_has_the_cloudmore_options() -> None:
    assert DEMO_CONNECTION.options["reseller_id"] == DEMO_RESELLER_ID
    assert timedelta(hours=24) == CloudmoreSimulator().token_lifetime
