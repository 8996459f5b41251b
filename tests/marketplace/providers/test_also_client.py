"""ALSO: the wire client, the provider adapter and the simulator, in-process through WSGITransport."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from marketplace.providers.also.adapter import AlsoProvider, offer_id_for
from marketplace.providers.also.client import ALSO_REGION_HOSTS, AlsoClient, base_url_for, parse_fault
from marketplace.providers.base import (
    AuthenticationFailed,
    BillingCycle,
    Capability,
    ChargeType,
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
from marketplace.providers.http import RetryPolicy
from marketplace.providers.registry import (
    UnknownMarketplace,
    available_slugs,
    create_provider,
    provider_class,
)
from simulators.also import (
    DEMO_CREDIT_LIMIT,
    DEMO_PASSWORD,
    DEMO_USERNAME,
    MFA_PASSWORD,
    MFA_REASON,
    MFA_USERNAME,
    SESSION_EXPIRED_REASON,
    TENANT_SERVICE,
    WRONG_CREDENTIALS_REASON,
    AlsoSimulator,
)

E3 = "1429492_NCEMicros365E3_12907"
PREMIUM = "1429493_NCEMicros365BusinessPremium_12908"
TEAMS_PHONE = "1429600_NCETeamsPhoneStandard_13001"
MONTHLY_1Y = "Monthly (with 1-year commitment) - P1Y"
PREPAID_1Y = "Prepaid (with 1-year commitment) - P1Y"
NO_SLEEP_POLICY = RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=30.0, jitter=0.0)


@pytest.fixture
def simulator() -> AlsoSimulator:
    return AlsoSimulator()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(simulator: AlsoSimulator, sleeps: list[float]) -> Iterator[AlsoClient]:
    with AlsoClient(
        region="de",
        username=DEMO_USERNAME,
        password=DEMO_PASSWORD,
        transport=httpx.WSGITransport(app=simulator),
        retry_policy=NO_SLEEP_POLICY,
        sleep=sleeps.append,
    ) as also_client:
        yield also_client


@pytest.fixture
def provider(simulator: AlsoSimulator, sleeps: list[float]) -> Iterator[AlsoProvider]:
    also = AlsoProvider(
        connection=ProviderConnection(region="de", username=DEMO_USERNAME, secret=DEMO_PASSWORD),
        transport=httpx.WSGITransport(app=simulator),
        sleep=sleeps.append,
        retry_policy=NO_SLEEP_POLICY,
    )
    with also:
        yield also


def company_id(client: AlsoClient, name: str) -> int:
    return next(int(c["AccountId"]) for c in client.get_companies() if c["CompanyName"] == name)


def licence_of(client: AlsoClient, company: str, service: str) -> dict:
    return next(
        s
        for s in client.get_subscriptions(parent_account_id=company_id(client, company))
        if s["ServiceName"] == service
    )


def quantity_field(wire: dict) -> int:
    return next(f["Value"] for f in wire["Fields"] if f["Name"] == "Quantity")


# ------------------------------------------------------------------------------------------------
# Regions and sign-in
# ------------------------------------------------------------------------------------------------


def test_region_builds_the_public_host_or_a_simulator_path_prefix() -> None:
    assert base_url_for(region="de") == "https://marketplace.also.de/SimpleAPI/SimpleAPIService.svc/rest"
    assert base_url_for(region="fr") == "https://marketplace.alsofrance.fr/SimpleAPI/SimpleAPIService.svc/rest"
    assert (
        base_url_for(region="ch", server_url="http://127.0.0.1:8201/")
        == "http://127.0.0.1:8201/ch/SimpleAPI/SimpleAPIService.svc/rest"
    )
    assert len(ALSO_REGION_HOSTS) == 15
    with pytest.raises(ValueError, match="Unknown ALSO region 'xx'"):
        base_url_for(region="xx")


def test_sign_in_returns_a_session_token_used_in_the_authenticate_header(
    client: AlsoClient, simulator: AlsoSimulator
) -> None:
    token = client.authenticate()
    assert len(token) == 40  # base64 of 30 random bytes, as a bare JSON string on the wire
    assert client.ping_pong() is None
    assert simulator.call_counts["PingPong"] == 1
    assert list(simulator.sessions) == [token]
    client.terminate_session_token()
    assert simulator.sessions == {}


def test_simulator_also_answers_on_a_region_path_prefix(simulator: AlsoSimulator) -> None:
    with AlsoClient(
        region="de",
        username=DEMO_USERNAME,
        password=DEMO_PASSWORD,
        server_url="http://simulator.local",
        transport=httpx.WSGITransport(app=simulator),
    ) as prefixed:
        assert prefixed.base_url == "http://simulator.local/de/SimpleAPI/SimpleAPIService.svc/rest/"
        assert len(prefixed.get_companies()) == 8


def test_wrong_password_is_refused_with_alsos_reason(simulator: AlsoSimulator) -> None:
    with AlsoClient(
        region="de", username=DEMO_USERNAME, password="wrong", transport=httpx.WSGITransport(app=simulator)
    ) as wrong:
        with pytest.raises(AuthenticationFailed) as raised:
            wrong.get_companies()
    assert str(raised.value) == WRONG_CREDENTIALS_REASON
    assert raised.value.reference is not None and raised.value.reference.isdigit()
    assert simulator.call_counts["GetSessionToken"] == 1  # a refused login is not retried
    assert simulator.call_counts["GetCompanies"] == 0


def test_mfa_user_is_refused_with_the_mfa_reason(simulator: AlsoSimulator) -> None:
    with AlsoClient(
        region="de", username=MFA_USERNAME, password=MFA_PASSWORD, transport=httpx.WSGITransport(app=simulator)
    ) as mfa:
        with pytest.raises(AuthenticationFailed) as raised:
            mfa.authenticate()
    assert str(raised.value) == MFA_REASON


def test_a_user_of_one_country_cannot_sign_in_on_another(simulator: AlsoSimulator) -> None:
    with AlsoClient(
        region="at", username=DEMO_USERNAME, password=DEMO_PASSWORD, transport=httpx.WSGITransport(app=simulator)
    ) as austria:
        with pytest.raises(AuthenticationFailed, match="check your username and password"):
            austria.authenticate()


def test_expired_session_is_renewed_once_and_the_call_goes_through(
    client: AlsoClient, simulator: AlsoSimulator
) -> None:
    first_token = client.authenticate()
    simulator.inject(kind="session_expiry", operation="GetCompanies", count=1)
    companies = client.get_companies()
    assert len(companies) == 8
    assert simulator.call_counts["GetSessionToken"] == 2
    assert simulator.call_counts["GetCompanies"] == 2
    assert first_token not in simulator.sessions


def test_session_ttl_running_out_is_renewed_transparently(client: AlsoClient, simulator: AlsoSimulator) -> None:
    client.authenticate()
    simulator.advance_clock(seconds=31 * 60)
    assert client.get_marketplaces()[0]["Id"] == 101
    assert simulator.call_counts["GetSessionToken"] == 2


def test_second_expiry_in_a_row_raises_authentication_failed(client: AlsoClient, simulator: AlsoSimulator) -> None:
    client.authenticate()
    simulator.inject(kind="session_expiry", operation="GetCompanies", count=2)
    with pytest.raises(AuthenticationFailed) as raised:
        client.get_companies()
    assert "expired again" in str(raised.value)
    assert SESSION_EXPIRED_REASON in str(raised.value)
    assert simulator.call_counts["GetSessionToken"] == 2
    assert simulator.call_counts["GetCompanies"] == 2


# ------------------------------------------------------------------------------------------------
# Throttling and unavailability through the ALSO client
# ------------------------------------------------------------------------------------------------


def test_429_waits_for_retry_after(client: AlsoClient, simulator: AlsoSimulator, sleeps: list[float]) -> None:
    simulator.inject(kind="throttle", operation="GetCompanies", retry_after=3)
    assert [c["CompanyName"] for c in client.get_companies()][:2] == ["Contoso GmbH", "Fabrikam AG"]
    assert sleeps == [3.0]
    assert simulator.call_counts["GetCompanies"] == 2


def test_429_on_a_write_is_retried_because_it_was_refused_not_applied(
    client: AlsoClient, simulator: AlsoSimulator, sleeps: list[float]
) -> None:
    contoso = company_id(client, "Contoso GmbH")
    simulator.inject(kind="throttle", operation="CreateSubscription", retry_after=2)
    created = client.create_subscription(
        parent_account_id=contoso, service_name=PREMIUM, fields={"Quantity": 3, "BillingType": MONTHLY_1Y}
    )
    assert quantity_field(created) == 3
    assert sleeps == [2.0]
    assert simulator.call_counts["CreateSubscription"] == 2
    assert len(client.get_subscriptions(parent_account_id=contoso)) == 4


def test_long_retry_after_is_handed_to_the_caller(client: AlsoClient, simulator: AlsoSimulator) -> None:
    simulator.inject(kind="throttle", operation="GetCompanies", retry_after=90)
    with pytest.raises(Throttled) as raised:
        client.get_companies()
    assert raised.value.retry_after == 90.0


def test_5xx_on_reads_is_retried_then_raised_as_unavailable(
    client: AlsoClient, simulator: AlsoSimulator, sleeps: list[float]
) -> None:
    client.authenticate()
    simulator.inject(kind="unavailable", operation="GetSubscriptions", count=10, status=503)
    with pytest.raises(Unavailable) as raised:
        client.get_subscriptions(parent_account_id=100002)
    assert sleeps == [0.5, 1.0, 2.0]
    assert simulator.call_counts["GetSubscriptions"] == 4
    assert "HTTP 503" in str(raised.value)
    assert "GetSubscriptions" in str(raised.value)
    assert "temporarily unavailable" in str(raised.value)


def test_5xx_read_recovers_when_the_marketplace_comes_back(
    client: AlsoClient, simulator: AlsoSimulator, sleeps: list[float]
) -> None:
    simulator.inject(kind="unavailable", operation="GetMarketplaces", count=2)
    assert client.get_marketplaces()[0]["Id"] == 101
    assert sleeps == [0.5, 1.0]


def test_5xx_on_a_write_is_not_sent_again(client: AlsoClient, simulator: AlsoSimulator, sleeps: list[float]) -> None:
    contoso = company_id(client, "Contoso GmbH")
    simulator.inject(kind="unavailable", operation="CreateSubscription", status=502)
    with pytest.raises(Unavailable, match="HTTP 502"):
        client.create_subscription(
            parent_account_id=contoso, service_name=PREMIUM, fields={"Quantity": 3, "BillingType": MONTHLY_1Y}
        )
    assert simulator.call_counts["CreateSubscription"] == 1
    assert sleeps == []
    assert len(client.get_subscriptions(parent_account_id=contoso)) == 3


def test_receiver_fault_is_unavailable_and_a_write_is_not_resent(
    client: AlsoClient, simulator: AlsoSimulator, sleeps: list[float]
) -> None:
    e3 = licence_of(client, "Contoso GmbH", E3)
    simulator.inject(kind="fault", operation="UpdateSubscription", code="Receiver", message="Provisioning backend down")
    with pytest.raises(Unavailable, match="Provisioning backend down"):
        client.update_subscription(account_id=e3["AccountId"], service_name=E3, fields={"Quantity": 30})
    assert simulator.call_counts["UpdateSubscription"] == 1
    assert sleeps == []


def test_latency_is_injected_through_the_simulator_sleep() -> None:
    slept: list[float] = []
    simulator = AlsoSimulator(sleep=slept.append)
    simulator.inject(kind="latency", operation="GetCompanies", seconds=1.5)
    with AlsoClient(
        region="de", username=DEMO_USERNAME, password=DEMO_PASSWORD, transport=httpx.WSGITransport(app=simulator)
    ) as client:
        assert len(client.get_companies()) == 8
    assert slept == [1.5]


# ------------------------------------------------------------------------------------------------
# Every client operation against the simulator
# ------------------------------------------------------------------------------------------------


def test_companies(client: AlsoClient) -> None:
    reseller = client.get_company()
    assert (reseller["AccountId"], reseller["CompanyName"], reseller["AccountType"]) == (
        100001,
        "Demo Reseller GmbH",
        "Reseller",
    )
    companies = client.get_companies()
    assert [c["CompanyName"] for c in companies] == [
        "Contoso GmbH",
        "Fabrikam AG",
        "Northwind Traders GmbH",
        "Adatum Solutions KG",
        "Tailspin Toys GmbH",
        "Woodgrove Steuerberatung",
        "Alpine Ski House e.U.",
        "Litware Consulting GmbH",
    ]
    contoso = client.get_company(account_id=companies[0]["AccountId"])
    assert (contoso["Domain"], contoso["Marketplaces"], contoso["Currency"]) == (["contoso.example"], [101], "EUR")
    assert client.get_companies(parent_account_id=100001) == companies


def test_create_company(client: AlsoClient) -> None:
    created = client.create_company(
        company_account={
            "ParentAccountId": 100001,
            "CompanyName": "Neue Kunde GmbH",
            "Email": "it@neuekunde.example",
            "Address": "Ring 5",
            "City": "Bonn",
            "Zip": "53111",
            "Country": "Germany",
            "Domain": ["neuekunde.example"],
            "Marketplaces": [101],
        }
    )
    assert created["CompanyName"] == "Neue Kunde GmbH"
    assert created["AccountState"] == "Active"
    assert client.get_companies()[-1]["AccountId"] == created["AccountId"]


def test_create_company_without_a_required_field_is_rejected(client: AlsoClient) -> None:
    with pytest.raises(Rejected) as raised:
        client.create_company(company_account={"ParentAccountId": 100001, "CompanyName": "Incomplete"})
    assert raised.value.code == "Sender"
    assert raised.value.message == "The field 'Address' is required."


def test_catalog_and_price_list(client: AlsoClient) -> None:
    marketplaces = client.get_marketplaces()
    assert [(m["Id"], m["Name"]) for m in marketplaces] == [(101, "Demo Reseller GmbH Marketplace")]
    products = {p["ProductName"]: p for p in client.list_marketplace_services(marketplace_id=101)}
    assert [b["FieldValue"] for b in products[E3]["SimpleProductBillingInfo"]] == [
        "Monthly (no commitment) - P1M",
        MONTHLY_1Y,
        PREPAID_1Y,
    ]
    charges = {s["ServiceId"]: s for s in client.get_marketplace_service_charges(marketplace_id=101)}
    annual = next(
        c for c in charges[E3]["Charges"] if c["CommitementPeriodInMonths"] == 12 and c["PrepaidPeriodInMonths"] == 12
    )
    assert (annual["PurchasePrice"], annual["CustomPrice"], annual["SuggestedRetailPrice"]) == (
        Decimal("363.96"),
        Decimal("404.40"),
        Decimal("404.40"),
    )
    assert type(annual["PurchasePrice"]) is Decimal
    with pytest.raises(NotFound, match="Marketplace 999 was not found"):
        client.get_marketplace_service_charges(marketplace_id=999)


def test_possible_services_for_a_company_and_for_a_subscription(client: AlsoClient) -> None:
    contoso = company_id(client, "Contoso GmbH")
    under_company = {s["ProductName"] for s in client.get_possible_services_for_parent(parent_account_id=contoso)}
    assert E3 in under_company and TEAMS_PHONE not in under_company
    e3 = licence_of(client, "Contoso GmbH", E3)
    under_e3 = [s["ProductName"] for s in client.get_possible_services_for_parent(parent_account_id=e3["AccountId"])]
    assert under_e3 == [TEAMS_PHONE]


def test_subscriptions_carry_quantity_as_a_field_and_priceable_items(client: AlsoClient) -> None:
    contoso = company_id(client, "Contoso GmbH")
    subscriptions = client.get_subscriptions(parent_account_id=contoso)
    assert [s["ServiceDisplayName"] for s in subscriptions] == [
        "Microsoft Organization tenant",
        "Microsoft 365 E3 (NCE)",
        "Microsoft 365 Business Basic (NCE)",
    ]
    e3 = subscriptions[1]
    assert "Quantity" not in e3
    assert quantity_field(e3) == 25
    assert e3["PriceableItems"][0]["PurchasePrice"] == Decimal("363.96")
    assert e3["DependencyAccountId"] == subscriptions[0]["AccountId"]
    assert [(a["ServiceName"], quantity_field(a)) for a in e3["Addons"]] == [(TEAMS_PHONE, 10)]
    single = client.get_subscription(account_id=e3["AccountId"])
    assert "Addons" not in single and quantity_field(single) == 25
    with_addons = client.get_subscription_with_addons(account_id=e3["AccountId"])
    assert len(with_addons["Addons"]) == 1
    assert with_addons["BillingStartDate"].count(" ") == 1  # "YYYY-MM-DD hh:mm:ss.ffffff", no zone


def test_unknown_or_foreign_account_is_not_found(client: AlsoClient, simulator: AlsoSimulator) -> None:
    austrian_company = next(c for c in simulator.companies.values() if c.country == "Austria")
    with pytest.raises(NotFound, match=f"Account {austrian_company.account_id} was not found"):
        client.get_subscriptions(parent_account_id=austrian_company.account_id)
    with pytest.raises(NotFound):
        client.get_subscription(account_id=999999)


def test_ordering_through_fields_validation_and_creation(client: AlsoClient, simulator: AlsoSimulator) -> None:
    alpine = company_id(client, "Alpine Ski House e.U.")
    definition = client.get_fields_for_service(parent_account_id=alpine, product_name=PREMIUM)
    by_name = {f["Name"]: f for f in definition["Fields"]}
    assert (by_name["Quantity"]["DisplayType"], by_name["Quantity"]["MinValue"], by_name["Quantity"]["MaxValue"]) == (
        "Mandatory",
        1,
        300,
    )
    assert [m["Value"] for m in by_name["BillingType"]["EnumMembers"]][1] == MONTHLY_1Y

    failed = client.validate_fields(
        parent_account_id=alpine, service_name=PREMIUM, fields={"Quantity": 0, "BillingType": MONTHLY_1Y}
    )
    assert failed == {
        "Result": "FAILED",
        "ErrorDetails": "The field 'Quantity' must be between 1 and 300.",
        "FieldName": "Quantity",
    }
    ok = client.validate_fields(
        parent_account_id=alpine, service_name=PREMIUM, fields={"Quantity": 12, "BillingType": MONTHLY_1Y}
    )
    assert ok["Result"] == "OK"
    assert simulator.call_counts["ValidateFields"] == 2
    assert len(client.get_subscriptions(parent_account_id=alpine)) == 1  # validation provisions nothing

    created = client.create_subscription(
        parent_account_id=alpine,
        service_name=PREMIUM,
        fields={"Quantity": 12, "BillingType": MONTHLY_1Y},
        purchase_order_number="order-7-line-1",
    )
    assert (created["ServiceName"], quantity_field(created), created["PurchaseOrderNumber"]) == (
        PREMIUM,
        12,
        "order-7-line-1",
    )
    assert created["AccountState"] == "Active" and created["Status"] == "Provisioned"


def test_no_idempotency_on_the_wire_a_second_create_buys_again(client: AlsoClient) -> None:
    alpine = company_id(client, "Alpine Ski House e.U.")
    for _ in range(2):
        client.create_subscription(
            parent_account_id=alpine,
            service_name=PREMIUM,
            fields={"Quantity": 1, "BillingType": MONTHLY_1Y},
            purchase_order_number="same-key",
        )
    assert [s["PurchaseOrderNumber"] for s in client.get_subscriptions(parent_account_id=alpine)].count("same-key") == 2


def test_update_subscription_quantity_and_the_nce_decrease_rule(client: AlsoClient, simulator: AlsoSimulator) -> None:
    contoso_e3 = licence_of(client, "Contoso GmbH", E3)
    client.update_subscription(account_id=contoso_e3["AccountId"], service_name=E3, fields={"Quantity": 30})
    assert quantity_field(client.get_subscription(account_id=contoso_e3["AccountId"])) == 30
    assert simulator.subscriptions[contoso_e3["AccountId"]].fields["Quantity"] == 30
    with pytest.raises(Rejected, match="only be decreased within 7 days"):
        client.update_subscription(account_id=contoso_e3["AccountId"], service_name=E3, fields={"Quantity": 20})
    tailspin_e3 = licence_of(client, "Tailspin Toys GmbH", E3)  # bought 3 days ago
    client.update_subscription(account_id=tailspin_e3["AccountId"], service_name=E3, fields={"Quantity": 90})
    assert quantity_field(client.get_subscription(account_id=tailspin_e3["AccountId"])) == 90


def test_configure_renew_applies_the_billing_type_at_the_contract_end(
    client: AlsoClient, simulator: AlsoSimulator
) -> None:
    fabrikam_premium = licence_of(client, "Fabrikam AG", PREMIUM)
    account_id = fabrikam_premium["AccountId"]
    client.configure_subscription_renew(account_id=account_id, field_values={"BillingType": PREPAID_1Y})
    configured = client.get_subscription(account_id=account_id)
    assert configured["HasRenewActionValuesConfigured"] is True
    assert configured["RenewFields"] == [{"Name": "BillingType", "DisplayName": "Billing type", "Value": PREPAID_1Y}]
    subscription = simulator.subscriptions[account_id]
    simulator.advance_clock(seconds=(subscription.contract_end - simulator.now()).total_seconds() + 60)
    renewed = client.get_subscription(account_id=account_id)
    assert next(f["Value"] for f in renewed["Fields"] if f["Name"] == "BillingType") == PREPAID_1Y
    assert renewed["RenewFields"] == []


def test_terminate_account_outside_the_window_schedules_inside_ends(client: AlsoClient) -> None:
    contoso_e3 = licence_of(client, "Contoso GmbH", E3)
    client.terminate_account(account_id=contoso_e3["AccountId"], termination_reason="Customer left")
    scheduled = client.get_subscription(account_id=contoso_e3["AccountId"])
    assert (scheduled["AccountState"], scheduled["AdvancePeriodEndAction"]) == ("Active", "Terminate")
    assert scheduled["ScheduledTerminationDate"] == scheduled["ContractEndDate"]
    client.update_subscription(account_id=contoso_e3["AccountId"], service_name=E3, advance_period_end_action="Renew")
    revoked = client.get_subscription(account_id=contoso_e3["AccountId"])
    assert (revoked["AdvancePeriodEndAction"], revoked["ScheduledTerminationDate"]) == ("Renew", None)

    tailspin_e3 = licence_of(client, "Tailspin Toys GmbH", E3)
    client.terminate_account(account_id=tailspin_e3["AccountId"])
    assert client.get_subscription(account_id=tailspin_e3["AccountId"])["AccountState"] == "Terminated"


def test_parse_fault_reads_the_wcf_sample_and_a_soap_envelope() -> None:
    wcf = (
        b'<Fault xmlns="http://schemas.microsoft.com/ws/2005/05/envelope/none"><Code><Value>Sender</Value></Code>'
        b'<Reason><Text xml:lang="en-US">TEST OK</Text></Reason><Detail><ServiceException '
        b'xmlns="http://schemas.datacontract.org/2004/07/Nervogrid.Platform.API"><IsSessionExpired>false'
        b"</IsSessionExpired><IssueToken>1234</IssueToken><Message>TEST OK</Message></ServiceException>"
        b"</Detail></Fault>"
    )
    fault = parse_fault(wcf)
    assert fault is not None
    assert (fault.code, fault.message, fault.is_session_expired, fault.issue_token) == (
        "Sender",
        "TEST OK",
        False,
        "1234",
    )
    soap = (
        b'<s:Fault xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Reason><s:Text>Users with enabled MFA are '
        b"not supported.</s:Text></s:Reason><s:Detail><ServiceException><Message>MFA!</Message>"
        b"<IsSessionExpired>true</IsSessionExpired></ServiceException></s:Detail></s:Fault>"
    )
    envelope = parse_fault(soap)
    assert envelope is not None and (envelope.message, envelope.is_session_expired) == ("MFA!", True)
    assert parse_fault(b"<html><body>gateway</body></html>") is None
    assert parse_fault(b"not xml") is None


# ------------------------------------------------------------------------------------------------
# The provider adapter
# ------------------------------------------------------------------------------------------------


def test_registry_builds_the_also_provider(simulator: AlsoSimulator) -> None:
    assert "also" in available_slugs()
    assert provider_class("also") is AlsoProvider
    with pytest.raises(UnknownMarketplace, match="'nope'"):
        provider_class("nope")
    built = create_provider(
        slug="also",
        connection=ProviderConnection(region="de", username=DEMO_USERNAME, secret=DEMO_PASSWORD),
        transport=httpx.WSGITransport(app=simulator),
    )
    assert isinstance(built, MarketplaceProvider)
    assert [c.name for c in built.list_customers()][0] == "Contoso GmbH"
    built.close()
    assert simulator.sessions == {}  # close() logs out


def test_connection_secret_is_not_in_its_repr() -> None:
    connection = ProviderConnection(region="de", username=DEMO_USERNAME, secret=DEMO_PASSWORD)
    assert DEMO_PASSWORD not in repr(connection)


def test_capabilities_and_rules(provider: AlsoProvider) -> None:
    assert provider.supports(Capability.CHANGE_QUANTITY)
    assert not provider.supports(Capability.SUSPEND)
    assert not provider.supports(Capability.REACTIVATE)
    assert "7 days" in (provider.rule_for(Capability.CHANGE_QUANTITY) or "")
    assert provider.rule_for(Capability.LIST_CUSTOMERS) is None


@pytest.mark.parametrize("capability", [Capability.SUSPEND, Capability.REACTIVATE])
def test_unsupported_capability_raises_unsupported(
    provider: AlsoProvider, simulator: AlsoSimulator, capability: Capability
) -> None:
    action = provider.suspend if capability is Capability.SUSPEND else provider.reactivate
    with pytest.raises(Unsupported) as raised:
        action(subscription_external_id="100004")
    assert raised.value.capability is capability
    assert str(raised.value) == f"ALSO Cloud Marketplace does not support {capability.value}"
    assert sum(simulator.call_counts.values()) == 0  # refused before any call


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
        Capability.CHANGE_BILLING_CYCLE: "change_billing_cycle",
        Capability.ADD_ADD_ON: "add_add_on",
        Capability.CHANGE_ADD_ON: "change_add_on_quantity",
        Capability.REMOVE_ADD_ON: "remove_add_on",
        Capability.LIST_INVOICE_LINES: "list_invoice_lines",
        Capability.READ_CREDIT_LIMIT: "credit_limit",
        Capability.LIST_TENANT_LICENCES: "list_tenant_licences",
        Capability.LIST_GDAP_RELATIONSHIPS: "list_gdap_relationships",
        Capability.CREATE_TENANT: "create_customer_tenant",
    }
    assert set(methods) == set(Capability)
    implemented = {c for c, name in methods.items() if getattr(AlsoProvider, name) is not getattr(ProviderBase, name)}
    assert implemented == AlsoProvider.capabilities


def test_list_customers(provider: AlsoProvider) -> None:
    customers = list(provider.list_customers())
    assert len(customers) == 8
    contoso = customers[0]
    assert (contoso.name, contoso.domains, contoso.country, contoso.city, contoso.active) == (
        "Contoso GmbH",
        ("contoso.example",),
        "DE",
        "Berlin",
        True,
    )
    assert contoso.external_id == "100002"


def test_list_offers_with_cost_prices(provider: AlsoProvider) -> None:
    offers = {offer.offer_id: offer for offer in provider.list_offers()}
    assert len(offers) == 19
    annual_e3 = offers[offer_id_for(service_name=E3, billing_type=PREPAID_1Y)]
    assert (annual_e3.cost_price, annual_e3.sales_price, annual_e3.suggested_retail_price) == (
        Decimal("363.96"),
        Decimal("404.40"),
        Decimal("404.40"),
    )
    assert all(isinstance(o.cost_price, Decimal) for o in offers.values())
    assert (annual_e3.billing_cycle, annual_e3.term, annual_e3.charge_type, annual_e3.currency) == (
        BillingCycle.ANNUAL,
        "P1Y",
        ChargeType.RECURRING,
        "EUR",
    )
    assert (annual_e3.name, annual_e3.sku, annual_e3.vendor, annual_e3.is_add_on) == (
        "Microsoft 365 E3 (NCE)",
        "CFQ7TTC0LFLX:0001",
        "Microsoft",
        False,
    )
    monthly_e3 = offers[offer_id_for(service_name=E3, billing_type=MONTHLY_1Y)]
    assert (monthly_e3.billing_cycle, monthly_e3.term, monthly_e3.cost_price) == (
        BillingCycle.MONTHLY,
        "P1Y",
        Decimal("30.33"),
    )
    teams = offers[offer_id_for(service_name=TEAMS_PHONE, billing_type=MONTHLY_1Y)]
    assert teams.is_add_on and teams.add_on_parent_product_ids == (E3,)
    triennial = [o for o in offers.values() if o.billing_cycle is BillingCycle.TRIENNIAL]
    assert [(o.name, o.term) for o in triennial] == [("Microsoft 365 Business Standard (NCE)", "P3Y")]
    assert not any("tenant" in o.name for o in offers.values())


def test_list_subscriptions_maps_states_terms_and_add_ons(provider: AlsoProvider) -> None:
    subscriptions = {(s.customer_external_id, s.product_id): s for s in provider.list_subscriptions()}
    assert len(subscriptions) == 10
    contoso_e3 = subscriptions[("100002", E3)]
    assert (contoso_e3.quantity, contoso_e3.assigned, contoso_e3.status, contoso_e3.billing_cycle, contoso_e3.term) == (
        25,
        None,
        SubscriptionStatus.ACTIVE,
        BillingCycle.ANNUAL,
        "P1Y",
    )
    assert contoso_e3.offer_id == f"{E3}|{PREPAID_1Y}"
    assert (contoso_e3.unit_cost_price, contoso_e3.unit_sales_price, contoso_e3.currency) == (
        Decimal("363.96"),
        Decimal("404.40"),
        "EUR",
    )
    assert contoso_e3.auto_renew and not contoso_e3.trial
    assert contoso_e3.started_at is not None and contoso_e3.term_end is not None
    assert contoso_e3.cancellation_allowed_until == contoso_e3.started_at + timedelta(days=7)
    assert [(a.name, a.quantity, a.status) for a in contoso_e3.add_ons] == [
        ("Microsoft Teams Phone Standard (NCE add-on)", 10, SubscriptionStatus.ACTIVE)
    ]
    northwind = next(
        s for s in subscriptions.values() if s.name == "Microsoft 365 Business Standard (NCE)" and s.term == "P1Y"
    )
    assert northwind.status is SubscriptionStatus.ACTIVE
    assert not northwind.auto_renew
    assert northwind.scheduled_termination_date is not None
    assert northwind.scheduled_termination_date == northwind.term_end
    woodgrove = next(s for s in subscriptions.values() if s.status is SubscriptionStatus.TERMINATED)
    assert (woodgrove.name, woodgrove.quantity, woodgrove.cancellation_allowed_until) == (
        "Microsoft 365 Business Premium (NCE)",
        12,
        None,
    )
    legacy = next(s for s in subscriptions.values() if s.offer_id.endswith("|Monthly"))
    assert legacy.cancellation_allowed_until is None  # no NCE window for legacy licences
    only_contoso = list(provider.list_subscriptions(customer_external_id="100002"))
    assert [s.name for s in only_contoso] == ["Microsoft 365 E3 (NCE)", "Microsoft 365 Business Basic (NCE)"]


def test_create_customer(provider: AlsoProvider, simulator: AlsoSimulator) -> None:
    created = provider.create_customer(
        customer=CustomerDraft(
            name="Bergblick Hotels GmbH",
            email="it@bergblick.example",
            country="AT",
            city="Innsbruck",
            address_line="Maria-Theresien-Strasse 1",
            postal_code="6020",
            domains=("bergblick.example",),
            vat_id="ATU12345678",
        )
    )
    assert (created.name, created.country, created.vat_id, created.domains, created.active) == (
        "Bergblick Hotels GmbH",
        "AT",
        "ATU12345678",
        ("bergblick.example",),
        True,
    )
    assert simulator.companies[int(created.external_id)].country == "Austria"
    assert [c.external_id for c in provider.list_customers()][-1] == created.external_id


def test_place_order_line_and_find_it_again_by_its_key(provider: AlsoProvider, simulator: AlsoSimulator) -> None:
    result = provider.place_order_line(
        customer_external_id="100025",
        offer_id=offer_id_for(service_name=PREMIUM, billing_type=MONTHLY_1Y),
        quantity=15,
        idempotency_key="order-41-line-2",
    )
    assert result.outcome is OrderLineOutcome.COMPLETED
    assert (
        result.subscription.quantity,
        result.subscription.customer_external_id,
        result.subscription.order_reference,
    ) == (
        15,
        "100025",
        "order-41-line-2",
    )
    assert [simulator.call_counts[op] for op in ("GetFieldsForService", "ValidateFields", "CreateSubscription")] == [
        1,
        1,
        1,
    ]
    found = provider.find_applied_order_line(customer_external_id="100025", idempotency_key="order-41-line-2")
    assert found == result.subscription
    assert provider.find_applied_order_line(customer_external_id="100025", idempotency_key="order-41-line-3") is None


def test_a_write_applied_before_a_5xx_is_found_instead_of_bought_twice(
    provider: AlsoProvider, simulator: AlsoSimulator
) -> None:
    simulator.inject(kind="unavailable", operation="CreateSubscription", apply_first=True)
    offer = offer_id_for(service_name=PREMIUM, billing_type=MONTHLY_1Y)
    with pytest.raises(Unavailable):
        provider.place_order_line(customer_external_id="100025", offer_id=offer, quantity=4, idempotency_key="k-9")
    assert simulator.call_counts["CreateSubscription"] == 1
    applied = provider.find_applied_order_line(customer_external_id="100025", idempotency_key="k-9")
    assert applied is not None
    assert (applied.product_id, applied.quantity, applied.order_reference) == (PREMIUM, 4, "k-9")
    keyed = [s for s in simulator.subscriptions.values() if s.purchase_order_number == "k-9"]
    assert len(keyed) == 1


def test_order_validation_failures_are_rejected(provider: AlsoProvider, simulator: AlsoSimulator) -> None:
    with pytest.raises(Rejected) as too_few:
        provider.place_order_line(
            customer_external_id="100025",
            offer_id=offer_id_for(service_name=PREMIUM, billing_type=MONTHLY_1Y),
            quantity=0,
            idempotency_key="k",
        )
    assert (too_few.value.code, too_few.value.message) == (
        "invalid_Quantity",
        "The field 'Quantity' must be between 1 and 300.",
    )
    with pytest.raises(Rejected) as wrong_billing:
        provider.place_order_line(
            customer_external_id="100025",
            offer_id=offer_id_for(service_name=PREMIUM, billing_type="Weekly"),
            quantity=1,
            idempotency_key="k",
        )
    assert wrong_billing.value.code == "invalid_offer"
    with pytest.raises(Rejected, match="is not an ALSO offer id"):
        provider.place_order_line(customer_external_id="100025", offer_id=PREMIUM, quantity=1, idempotency_key="k")
    assert simulator.call_counts["CreateSubscription"] == 0


def test_change_quantity(provider: AlsoProvider) -> None:
    increased = provider.change_quantity(subscription_external_id="100004", quantity=28)
    assert increased.quantity == 28
    with pytest.raises(Rejected, match="only be decreased within 7 days"):
        provider.change_quantity(subscription_external_id="100004", quantity=5)
    tailspin = next(s for s in provider.list_subscriptions(customer_external_id="100019"))
    decreased = provider.change_quantity(subscription_external_id=tailspin.external_id, quantity=60)
    assert decreased.quantity == 60


def test_terminate_and_revoke(provider: AlsoProvider) -> None:
    scheduled = provider.terminate(subscription_external_id="100004", reason="Moving to another provider")
    assert (scheduled.status, scheduled.auto_renew, scheduled.scheduled_termination_date) == (
        SubscriptionStatus.ACTIVE,
        False,
        scheduled.term_end,
    )
    assert scheduled.term_end is not None
    revoked = provider.revoke_termination(subscription_external_id="100004")
    assert (revoked.auto_renew, revoked.scheduled_termination_date) == (True, None)
    assert provider.revoke_termination(subscription_external_id="100004") == revoked  # nothing left to revoke

    tailspin = next(s for s in provider.list_subscriptions(customer_external_id="100019"))
    ended = provider.terminate(subscription_external_id=tailspin.external_id)
    assert ended.status is SubscriptionStatus.TERMINATED
    with pytest.raises(Rejected) as raised:
        provider.revoke_termination(subscription_external_id=tailspin.external_id)
    assert raised.value.code == "already_terminated"


def test_change_billing_cycle_takes_effect_at_renewal(provider: AlsoProvider, simulator: AlsoSimulator) -> None:
    fabrikam = next(s for s in provider.list_subscriptions(customer_external_id="100007") if s.product_id == PREMIUM)
    assert (fabrikam.billing_cycle, fabrikam.term) == (BillingCycle.MONTHLY, "P1Y")
    unchanged_now = provider.change_billing_cycle(
        subscription_external_id=fabrikam.external_id, billing_cycle=BillingCycle.ANNUAL
    )
    assert unchanged_now.billing_cycle is BillingCycle.MONTHLY
    assert simulator.subscriptions[int(fabrikam.external_id)].renew_fields == {"BillingType": PREPAID_1Y}
    assert fabrikam.term_end is not None
    simulator.advance_clock(
        seconds=(simulator.subscriptions[int(fabrikam.external_id)].contract_end - simulator.now()).total_seconds() + 5
    )
    renewed = provider.get_subscription(subscription_external_id=fabrikam.external_id)
    assert (renewed.billing_cycle, renewed.offer_id) == (BillingCycle.ANNUAL, f"{PREMIUM}|{PREPAID_1Y}")
    assert renewed.term_end is not None and renewed.term_end > fabrikam.term_end
    with pytest.raises(Rejected) as raised:
        provider.change_billing_cycle(
            subscription_external_id=fabrikam.external_id, billing_cycle=BillingCycle.TRIENNIAL
        )
    assert raised.value.code == "billing_cycle_unavailable"


def test_add_change_and_remove_an_add_on(provider: AlsoProvider, simulator: AlsoSimulator) -> None:
    tailspin_e3 = next(s for s in provider.list_subscriptions(customer_external_id="100019"))
    added = provider.add_add_on(
        subscription_external_id=tailspin_e3.external_id,
        offer_id=offer_id_for(service_name=TEAMS_PHONE, billing_type=MONTHLY_1Y),
        quantity=5,
        idempotency_key="order-50-line-1",
    )
    assert (added.name, added.quantity, added.status, added.order_reference) == (
        "Microsoft Teams Phone Standard (NCE add-on)",
        5,
        SubscriptionStatus.ACTIVE,
        "order-50-line-1",
    )
    assert [
        a.external_id for a in provider.get_subscription(subscription_external_id=tailspin_e3.external_id).add_ons
    ] == [added.external_id]
    holder = provider.find_applied_order_line(customer_external_id="100019", idempotency_key="order-50-line-1")
    assert holder is not None and holder.external_id == tailspin_e3.external_id

    changed = provider.change_add_on_quantity(
        subscription_external_id=tailspin_e3.external_id, add_on_external_id=added.external_id, quantity=8
    )
    assert changed.quantity == 8
    with pytest.raises(NotFound, match="has no add-on"):
        provider.remove_add_on(subscription_external_id="100004", add_on_external_id=added.external_id)
    provider.remove_add_on(subscription_external_id=tailspin_e3.external_id, add_on_external_id=added.external_id)
    after = provider.get_subscription(subscription_external_id=tailspin_e3.external_id)
    assert [(a.external_id, a.status) for a in after.add_ons] == [(added.external_id, SubscriptionStatus.TERMINATED)]


def test_an_add_on_under_the_wrong_product_is_rejected(provider: AlsoProvider) -> None:
    with pytest.raises(Rejected, match="cannot be added under"):
        provider.add_add_on(
            subscription_external_id="100006",  # Business Basic, not E3
            offer_id=offer_id_for(service_name=TEAMS_PHONE, billing_type=MONTHLY_1Y),
            quantity=1,
            idempotency_key="k",
        )


def test_tenant_account_and_bad_ids_are_not_found(provider: AlsoProvider) -> None:
    with pytest.raises(NotFound, match="not a licence subscription"):
        provider.get_subscription(subscription_external_id="100003")  # Contoso's Microsoft tenant account
    with pytest.raises(NotFound, match="not an ALSO account id"):
        provider.get_subscription(subscription_external_id="abc")


def test_wrong_password_through_the_provider(simulator: AlsoSimulator) -> None:
    with AlsoProvider(
        connection=ProviderConnection(region="de", username=DEMO_USERNAME, secret="nope"),
        transport=httpx.WSGITransport(app=simulator),
    ) as wrong:
        with pytest.raises(AuthenticationFailed, match="check your username and password"):
            list(wrong.list_customers())


# ------------------------------------------------------------------------------------------------
# Simulator control endpoints and scale
# ------------------------------------------------------------------------------------------------


def test_control_endpoints_seed_reset_and_inject(simulator: AlsoSimulator) -> None:
    with httpx.Client(transport=httpx.WSGITransport(app=simulator), base_url="http://simulator") as control:
        seeded = control.post(
            "/_control/seed", json={"kind": "bulk", "companies": 3, "subscriptions_per_company": 4}
        ).json()
        assert (seeded["state"]["companies"], seeded["state"]["subscriptions"]) == (13, 34)
        injected = control.post(
            "/_control/inject", json={"kind": "throttle", "operation": "GetCompanies", "retry_after": 2}
        )
        assert injected.json()["state"]["injections"] == [
            {"kind": "throttle", "operation": "GetCompanies", "remaining": 1}
        ]
        assert control.post("/_control/inject", json={"kind": "bogus"}).status_code == 400
        assert control.post("/_control/clear", json={}).json()["state"]["injections"] == []
        assert control.post("/_control/reset", json={"seed": False}).json()["state"]["companies"] == 0
        assert control.post("/_control/reset", json={}).json()["state"]["companies"] == 10
        assert control.get("/_control/state").json()["resellers"] == 2
        assert control.get("/SimpleAPI/SimpleAPIService.svc/rest/GetCompanies").status_code == 404  # no region
        assert control.get("/de/SimpleAPI/SimpleAPIService.svc/rest/GetCompanies").status_code == 405  # POST only


def test_bulk_seed_pages_through_two_thousand_companies_and_twenty_thousand_subscriptions() -> None:
    simulator = AlsoSimulator()
    started = time.perf_counter()
    simulator.seed_bulk(companies=2000, subscriptions_per_company=10)
    seeded_in = time.perf_counter() - started
    assert simulator.state()["companies"] == 2010 and simulator.state()["subscriptions"] == 20022
    with AlsoProvider(
        connection=ProviderConnection(region="de", username=DEMO_USERNAME, secret=DEMO_PASSWORD),
        transport=httpx.WSGITransport(app=simulator),
    ) as provider:
        customers = list(provider.list_customers())
        started = time.perf_counter()
        subscriptions = list(provider.list_subscriptions())
        listed_in = time.perf_counter() - started
    assert len(customers) == 2008
    assert len(subscriptions) == 20010
    assert sum(1 for s in subscriptions if s.customer_external_id == customers[-1].external_id) == 10
    assert simulator.call_counts["GetSubscriptions"] == 2008
    assert seeded_in < 5 and listed_in < 30


def test_closing_with_an_expired_session_does_not_sign_in_again(
    provider: AlsoProvider, simulator: AlsoSimulator
) -> None:
    assert len(list(provider.list_customers())) == 8
    simulator.expire_sessions()
    provider.close()
    assert simulator.call_counts["GetSessionToken"] == 1
    assert simulator.call_counts["TerminateSessionToken"] == 1


def test_provider_code_does_not_import_django() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, marketplace.providers.registry, simulators.also; "
        "print(sorted(name for name in sys.modules if name == 'django' or name.startswith('django.')))"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "[]"


# ------------------------------------------------------------------------------------------------
# Credit limits, users, service information, validation, PingPong
# ------------------------------------------------------------------------------------------------


def raw_call(simulator: AlsoSimulator, client: AlsoClient, operation: str, body: dict) -> httpx.Response:
    """One call straight on the wire, to see the exact status, content type and body ALSO answers."""
    token = client.authenticate()
    with httpx.Client(transport=httpx.WSGITransport(app=simulator), base_url="https://marketplace.also.de") as http:
        return http.post(
            f"/SimpleAPI/SimpleAPIService.svc/rest/{operation}",
            json=body,
            headers={"Authenticate": f"CCPSessionId {token}"},
        )


def test_ping_pong_answers_json_null_while_the_session_is_valid(simulator: AlsoSimulator, client: AlsoClient) -> None:
    response = raw_call(simulator, client, "PingPong", {})
    assert (response.status_code, response.content) == (200, b"null")
    assert response.headers["content-type"].startswith("application/json")


def test_credit_limit_of_the_reseller_shows_the_limit_and_what_the_month_used(
    client: AlsoClient, simulator: AlsoSimulator
) -> None:
    reseller = int(client.get_company()["AccountId"])
    record = client.get_credit_limit(account_id=reseller)
    assert record["HasCreditLimit"] is True and record["Limit"] == DEMO_CREDIT_LIMIT
    assert record["Currency"] == "EUR" and record["Comment"] == "Annual credit review"
    used = record["Limit"] - record["RemainingCreditLimit"]
    assert used > 0  # the demo subscriptions already charged this month

    before = record["RemainingCreditLimit"]
    alpine = company_id(client, "Alpine Ski House e.U.")
    client.create_subscription(
        parent_account_id=alpine, service_name=PREMIUM, fields={"Quantity": 10, "BillingType": MONTHLY_1Y}
    )
    assert client.get_credit_limit(account_id=reseller)["RemainingCreditLimit"] < before


def test_a_company_credit_limit_is_set_read_and_removed(client: AlsoClient) -> None:
    contoso = company_id(client, "Contoso GmbH")
    assert client.get_credit_limit(account_id=contoso)["HasCreditLimit"] is False
    client.set_credit_limit(account_id=contoso, limit=Decimal("5000.50"), comment="Payment terms agreed")
    record = client.get_credit_limit(account_id=contoso)
    assert (record["HasCreditLimit"], record["Limit"], record["Comment"]) == (
        True,
        Decimal("5000.50"),
        "Payment terms agreed",
    )
    assert record["RemainingCreditLimit"] < record["Limit"]  # Contoso's own licences count against it
    client.set_credit_limit(account_id=contoso, limit=None, comment="No longer checked")
    assert client.get_credit_limit(account_id=contoso)["HasCreditLimit"] is False


def test_set_credit_limit_refusals_are_wcf_faults(client: AlsoClient) -> None:
    reseller = int(client.get_company()["AccountId"])
    contoso = company_id(client, "Contoso GmbH")
    with pytest.raises(Rejected, match="can only be changed by its parent"):
        client.set_credit_limit(account_id=reseller, limit=Decimal(1), comment="raise my own")
    with pytest.raises(Rejected, match="'comment' is required"):
        client.set_credit_limit(account_id=contoso, limit=Decimal(1), comment="")
    with pytest.raises(NotFound, match="was not found"):
        client.get_credit_limit(account_id=999999)


def test_provider_reads_the_account_credit_limit(provider: AlsoProvider) -> None:
    assert provider.supports(Capability.READ_CREDIT_LIMIT)
    record = provider.credit_limit()
    assert record.limit == DEMO_CREDIT_LIMIT and record.currency == "EUR"
    assert record.remaining is not None and Decimal(0) < record.remaining < record.limit
    assert record.set_at is not None and record.set_at.tzinfo is not None


def test_users_of_the_reseller_and_of_a_company(client: AlsoClient) -> None:
    me = client.get_user()
    assert me["Username"] == DEMO_USERNAME and me["AccountState"] == "Active" and me["LastLogon"]
    reseller = int(client.get_company()["AccountId"])
    reseller_users = client.get_users(company_account_id=reseller)
    assert {user["Username"] for user in reseller_users} == {DEMO_USERNAME, MFA_USERNAME}
    contoso = company_id(client, "Contoso GmbH")
    [admin] = client.get_users(company_account_id=contoso)
    assert (admin["Username"], admin["ParentAccountId"]) == ("admin@contoso.example", contoso)
    assert client.get_user(account_id=admin["AccountId"])["Email"] == "admin@contoso.example"
    with pytest.raises(NotFound, match="was not found"):
        client.get_user(account_id=1)


def test_service_information_names_the_service_and_its_terms(client: AlsoClient) -> None:
    info = client.get_service_information(service_name=PREMIUM)
    assert set(info) == {"DisplayName", "Description", "TermsConditions"}
    assert info["DisplayName"] == "Microsoft 365 Business Premium (NCE)" and "168 hours" in info["TermsConditions"]
    with pytest.raises(NotFound, match="was not found"):
        client.get_service_information(service_name="0_NoSuchService_0")


def test_validate_fields_checks_every_field_against_its_own_validator(client: AlsoClient) -> None:
    tenant_service = TENANT_SERVICE
    alpine = company_id(client, "Alpine Ski House e.U.")
    fields = {
        "Primarydomainname": "alpineski",
        "PrimaryContactEmailAddress": "fidelity",
        "Primarycontactfirstname": "Ana",
        "Primarycontactlastname": "Alp",
    }
    failed = client.validate_fields(parent_account_id=alpine, service_name=tenant_service, fields=fields)
    assert (failed["Result"], failed["FieldName"]) == ("FAILED", "PrimaryContactEmailAddress")
    assert "fidelity" in failed["ErrorDetails"]
    fields["PrimaryContactEmailAddress"] = "ana@alpineskihouse.example"
    assert (
        client.validate_fields(parent_account_id=alpine, service_name=tenant_service, fields=fields)["Result"] == "OK"
    )
    fields["ExistingOffice365customer"] = "maybe"
    failed = client.validate_fields(parent_account_id=alpine, service_name=tenant_service, fields=fields)
    assert failed["FieldName"] == "ExistingOffice365customer"
    failed = client.validate_fields(
        parent_account_id=alpine, service_name=PREMIUM, fields={"Quantity": 1, "BillingType": "Weekly"}
    )
    assert (failed["FieldName"], failed["ErrorDetails"]) == (
        "BillingType",
        "'Weekly' is not a valid value for Billing type.",
    )
