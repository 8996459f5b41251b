"""Customer tenants: adding them by ID or domain (resolved at Microsoft), removing them, and admin consent
driven end to end through the identity simulator, the public callback and back to the partner's host."""

import time
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.test import Client
from django_tenants.utils import schema_context

from customers.choices import ConsentState
from customers.models import CustomerTenant
from customers.views import CONSENT_SESSION_KEY
from portal.audit.models import AuditEvent
from portal.microsoft.identity import IdentityClient, TenantNotFound
from portal.microsoft.service import handoff_create, set_identity_client, state_create
from portal.partners.models import Partner
from simulators.identity import MicrosoftSimulator, SimulatedBrowser
from tests.customers.customer_support import CALLBACK_URL, CONTOSO, FABRIKAM, NORTHWIND, PUBLIC_HOST
from tests.factories.customers import CustomerFactory, CustomerTenantFactory

COMPLETE = "/customers/tenants/consent/complete/"


def alpha_schema():
    return schema_context(Partner.objects.get(slug="alpha").schema_name)


@pytest.fixture
def customer(in_alpha):
    return CustomerFactory(name="Contoso Ltd")


def add_tenant(client: Client, customer, value: str, **extra):
    return client.post(f"/customers/{customer.pk}/tenants/add/", {"domain_or_id": value, "display_name": "", **extra})


# -- resolving a tenant -----------------------------------------------------------------------------------------------


def test_the_identity_client_resolves_domains_and_ids_through_discovery(identity: IdentityClient):
    assert identity.resolve_tenant(domain_or_id="Contoso.onmicrosoft.com") == (CONTOSO, "contoso.onmicrosoft.com")
    assert identity.resolve_tenant(domain_or_id=f" {FABRIKAM.upper()} ") == (FABRIKAM, None)
    with pytest.raises(TenantNotFound) as unknown:
        identity.resolve_tenant(domain_or_id="unknown.example.com")
    assert unknown.value.error == "invalid_tenant"
    assert "AADSTS90002" in unknown.value.description
    with pytest.raises(ValueError):
        identity.resolve_tenant(domain_or_id="not a domain")


# -- adding and removing ----------------------------------------------------------------------------------------------


def test_add_a_tenant_by_id(alpha_admin_client, customer, identity):
    response = add_tenant(alpha_admin_client, customer, NORTHWIND, display_name="Northwind HQ")

    assert response.status_code == 302
    assert response["Location"] == f"/customers/{customer.pk}/?tab=tenants"
    with alpha_schema():
        tenant = CustomerTenant.objects.get(customer=customer)
        assert str(tenant.tenant_id) == NORTHWIND
        assert tenant.primary_domain == ""
        assert tenant.display_name == "Northwind HQ"
        assert tenant.consent_state == ConsentState.NOT_CONSENTED
        assert AuditEvent.objects.filter(action="customer_tenant.add", customer_id=customer.pk).exists()
    page = alpha_admin_client.get(response["Location"]).content.decode()
    assert NORTHWIND in page
    assert "Not consented" in page


def test_add_a_tenant_by_domain_resolves_its_id_at_microsoft(alpha_admin_client, customer, identity):
    response = add_tenant(alpha_admin_client, customer, "contoso.onmicrosoft.com")

    assert response.status_code == 302
    with alpha_schema():
        tenant = CustomerTenant.objects.get(customer=customer)
        assert (str(tenant.tenant_id), tenant.primary_domain) == (CONTOSO, "contoso.onmicrosoft.com")


def test_an_htmx_add_answers_with_the_tenants_fragment(alpha_admin_client, customer, identity):
    response = alpha_admin_client.post(
        f"/customers/{customer.pk}/tenants/add/",
        {"domain_or_id": "fabrikam.onmicrosoft.com"},
        headers={"HX-Request": "true", "HX-Target": "tenants"},
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="tenants">')
    assert FABRIKAM in body
    assert "Tenant fabrikam.onmicrosoft.com was added." in body  # the message, swapped out of band


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not a tenant", "is neither a tenant ID (GUID) nor a domain name"),
        ("contoso", "is neither a tenant ID (GUID) nor a domain name"),
        ("unknown-company.com", "Microsoft knows no tenant “unknown-company.com” (AADSTS90002)"),
        ("11111111-2222-3333-4444-555555555555", "AADSTS90002"),
    ],
)
def test_a_bad_or_unknown_tenant_is_refused_and_nothing_is_saved(
    alpha_admin_client, customer, identity, value, message
):
    response = add_tenant(alpha_admin_client, customer, value)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert "The tenant was not added." in response.content.decode()
    with alpha_schema():
        assert not CustomerTenant.objects.exists()


def test_a_tenant_attached_to_another_customer_is_refused(alpha_admin_client, customer, identity):
    with alpha_schema():
        other = CustomerFactory(name="Someone Else")
        CustomerTenantFactory(customer=other, tenant_id=CONTOSO, primary_domain="contoso.onmicrosoft.com")

    by_domain = add_tenant(alpha_admin_client, customer, "contoso.onmicrosoft.com")
    by_id = add_tenant(alpha_admin_client, customer, CONTOSO)

    for response in (by_domain, by_id):
        body = response.content.decode()
        assert "is already attached to another customer" in body
        assert "Someone Else" not in body  # which customer is not the user's business
    with alpha_schema():
        assert CustomerTenant.objects.get(tenant_id=CONTOSO).customer == other


def test_a_tenant_already_attached_to_this_customer_is_refused(alpha_admin_client, customer, identity):
    add_tenant(alpha_admin_client, customer, "contoso.onmicrosoft.com")

    response = add_tenant(alpha_admin_client, customer, CONTOSO)

    assert "is already attached to this customer" in response.content.decode()
    with alpha_schema():
        assert CustomerTenant.objects.count() == 1


def test_removing_a_tenant_needs_its_domain_typed(alpha_admin_client, customer):
    with alpha_schema():
        tenant = CustomerTenantFactory(customer=customer, primary_domain="contoso.onmicrosoft.com")
    url = f"/customers/{customer.pk}/tenants/{tenant.pk}/remove/"

    wrong = alpha_admin_client.post(url, {"confirmation": "contoso"})
    assert wrong.status_code == 200
    assert "Nothing was removed" in wrong.content.decode()

    right = alpha_admin_client.post(url, {"confirmation": "contoso.onmicrosoft.com"})
    assert right.status_code == 302
    with alpha_schema():
        assert not CustomerTenant.objects.filter(pk=tenant.pk).exists()
        assert AuditEvent.objects.filter(action="customer_tenant.remove", customer_id=customer.pk).exists()


def test_a_tenant_of_another_customer_is_not_found_under_this_one(alpha_admin_client, customer):
    with alpha_schema():
        other_tenant = CustomerTenantFactory(customer=CustomerFactory(name="Other"))

    response = alpha_admin_client.get(f"/customers/{customer.pk}/tenants/{other_tenant.pk}/remove/")

    assert response.status_code == 404


# -- admin consent ----------------------------------------------------------------------------------------------------


@pytest.fixture
def contoso_tenant(customer):
    return CustomerTenantFactory(
        customer=customer,
        tenant_id=CONTOSO,
        primary_domain="contoso.onmicrosoft.com",
        consent_state=ConsentState.NOT_CONSENTED,
    )


def start_consent(client: Client, tenant: CustomerTenant) -> str:
    response = client.post(f"/customers/{tenant.customer_id}/tenants/{tenant.pk}/authenticate/")
    assert response.status_code == 302, response.content.decode()[:500]
    return response["Location"]


def back_at_partner(client: Client, params: dict[str, str]):
    """The browser arrives at the public callback, which hands the answer to the partner's host."""
    handed = Client(HTTP_HOST=PUBLIC_HOST).get("/microsoft/callback/", params)
    assert handed.status_code == 302, handed.content.decode()[:500]
    location = urlsplit(handed["Location"])
    assert location.netloc == client.defaults["HTTP_HOST"]
    assert location.path == COMPLETE
    return client.get(f"{location.path}?{location.query}")


def tenant_state(tenant: CustomerTenant) -> CustomerTenant:
    with alpha_schema():
        return CustomerTenant.objects.get(pk=tenant.pk)


def test_authenticate_sends_the_admin_to_microsoft_for_this_tenant(alpha_admin_client, contoso_tenant, identity):
    url = start_consent(alpha_admin_client, contoso_tenant)

    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"http://simulator.test/{CONTOSO}/v2.0/adminconsent"
    assert query["redirect_uri"] == [CALLBACK_URL]
    assert query["client_id"] == ["console-dev-client"]
    assert alpha_admin_client.session[CONSENT_SESSION_KEY]["state"] == query["state"][0]
    assert alpha_admin_client.session[CONSENT_SESSION_KEY]["tenant_id"] == CONTOSO
    assert tenant_state(contoso_tenant).consent_state == ConsentState.PENDING


def test_consent_end_to_end(
    alpha_admin_client, contoso_tenant, identity, browser: SimulatedBrowser, simulator: MicrosoftSimulator
):
    url = start_consent(alpha_admin_client, contoso_tenant)
    callback = browser.admin_consent(url)
    assert (callback.method, callback.url) == ("GET", CALLBACK_URL)

    response = back_at_partner(alpha_admin_client, callback.params)

    assert response.status_code == 302
    assert response["Location"] == f"/customers/{contoso_tenant.customer_id}/?tab=tenants"
    tenant = tenant_state(contoso_tenant)
    assert tenant.consent_state == ConsentState.CONSENTED
    assert tenant.consented_at is not None
    assert tenant.consented_by == "admin@alpha.example"
    assert [(c.tid, c.client_id) for c in simulator.consents] == [(CONTOSO, "console-dev-client")]
    with alpha_schema():
        event = AuditEvent.objects.get(action="customer_tenant.consent")
        assert (event.result, event.customer_id) == ("success", contoso_tenant.customer_id)
    page = alpha_admin_client.get(response["Location"]).content.decode()
    assert "Consent granted" in page
    assert "bi-check-circle-fill" in page  # the green check
    assert CONSENT_SESSION_KEY not in alpha_admin_client.session


def test_declined_consent_is_recorded_with_microsofts_words(alpha_admin_client, contoso_tenant, identity, browser):
    url = start_consent(alpha_admin_client, contoso_tenant)
    callback = browser.admin_consent(url, accept=False)

    response = back_at_partner(alpha_admin_client, callback.params)

    assert response.status_code == 302
    tenant = tenant_state(contoso_tenant)
    assert tenant.consent_state == ConsentState.DENIED
    assert "AADSTS65004" in tenant.consent_message
    page = alpha_admin_client.get(response["Location"]).content.decode()
    assert "Consent was declined at Microsoft" in page
    assert "Consent denied" in page
    with alpha_schema():
        assert AuditEvent.objects.get(action="customer_tenant.consent").result == "failure"


def test_a_forged_state_is_stopped_at_the_public_callback(alpha_admin_client, contoso_tenant, identity, browser):
    start_consent(alpha_admin_client, contoso_tenant)

    response = Client(HTTP_HOST=PUBLIC_HOST).get(
        "/microsoft/callback/", {"state": "forged", "admin_consent": "True", "tenant": CONTOSO}
    )

    assert response.status_code == 400
    assert tenant_state(contoso_tenant).consent_state == ConsentState.PENDING


def test_a_forged_handoff_changes_nothing(alpha_admin_client, contoso_tenant, identity):
    start_consent(alpha_admin_client, contoso_tenant)

    response = alpha_admin_client.get(COMPLETE, {"handoff": "made-up-token"})

    assert response.status_code == 302
    page = alpha_admin_client.get(response["Location"]).content.decode()
    assert "This consent answer is not valid or has expired" in page
    assert tenant_state(contoso_tenant).consent_state == ConsentState.PENDING


def test_a_validly_signed_answer_for_another_state_changes_nothing(alpha_admin_client, contoso_tenant, identity):
    start_consent(alpha_admin_client, contoso_tenant)
    with alpha_schema():
        other_state = state_create(schema_name="whatever", return_path=COMPLETE, purpose="consent")
    handoff = handoff_create(params={"state": other_state, "admin_consent": "True", "tenant": CONTOSO})

    response = alpha_admin_client.get(COMPLETE, {"handoff": handoff})

    page = alpha_admin_client.get(response["Location"]).content.decode()
    assert "does not belong to the consent started in this browser. Nothing was saved." in page
    assert tenant_state(contoso_tenant).consent_state == ConsentState.PENDING
    with alpha_schema():
        assert not AuditEvent.objects.filter(action="customer_tenant.consent").exists()


def test_an_answer_to_an_older_consent_does_not_match_the_session(
    alpha_admin_client, contoso_tenant, identity, browser
):
    first_url = start_consent(alpha_admin_client, contoso_tenant)
    start_consent(alpha_admin_client, contoso_tenant)  # started again: the session now expects the new state
    callback = browser.admin_consent(first_url)

    response = back_at_partner(alpha_admin_client, callback.params)

    page = alpha_admin_client.get(response["Location"]).content.decode()
    assert "does not belong to the consent started in this browser" in page
    assert tenant_state(contoso_tenant).consent_state == ConsentState.PENDING
    assert CONSENT_SESSION_KEY in alpha_admin_client.session  # the newer consent can still complete


def test_an_expired_consent_flow_is_refused(alpha_admin_client, contoso_tenant, identity, browser):
    url = start_consent(alpha_admin_client, contoso_tenant)
    session = alpha_admin_client.session
    session[CONSENT_SESSION_KEY] = {**session[CONSENT_SESSION_KEY], "started_at": time.time() - 3600}
    session.save()
    callback = browser.admin_consent(url)

    response = back_at_partner(alpha_admin_client, callback.params)

    page = alpha_admin_client.get(response["Location"]).content.decode()
    assert "The consent took too long and has expired" in page
    tenant = tenant_state(contoso_tenant)
    assert tenant.consent_state == ConsentState.NOT_CONSENTED
    assert tenant.consented_at is None


def test_consent_for_another_tenant_does_not_count(alpha_admin_client, contoso_tenant, identity, simulator):
    start_consent(alpha_admin_client, contoso_tenant)
    simulator.grant_consent(tid=FABRIKAM, client_id="console-dev-client")
    state = alpha_admin_client.session[CONSENT_SESSION_KEY]["state"]
    handoff = handoff_create(params={"state": state, "admin_consent": "True", "tenant": FABRIKAM})

    response = alpha_admin_client.get(COMPLETE, {"handoff": handoff})

    page = alpha_admin_client.get(response["Location"]).content.decode()
    assert f"Consent was granted in tenant {FABRIKAM}" in page
    assert tenant_state(contoso_tenant).consent_state == ConsentState.NOT_CONSENTED


def test_a_consent_microsoft_did_not_grant_is_not_recorded(alpha_admin_client, contoso_tenant, identity):
    """The answer says "consented" but Microsoft refuses an app token there: not consented (AADSTS65001)."""
    start_consent(alpha_admin_client, contoso_tenant)
    state = alpha_admin_client.session[CONSENT_SESSION_KEY]["state"]
    handoff = handoff_create(params={"state": state, "admin_consent": "True", "tenant": CONTOSO})

    response = alpha_admin_client.get(COMPLETE, {"handoff": handoff})

    page = alpha_admin_client.get(response["Location"]).content.decode()
    assert "the console cannot act in the tenant" in page
    assert "AADSTS65001" in page
    assert tenant_state(contoso_tenant).consent_state == ConsentState.NOT_CONSENTED


def test_authenticate_is_post_only(alpha_admin_client, contoso_tenant):
    response = alpha_admin_client.get(
        f"/customers/{contoso_tenant.customer_id}/tenants/{contoso_tenant.pk}/authenticate/"
    )

    assert response.status_code == 405
    assert tenant_state(contoso_tenant).consent_state == ConsentState.NOT_CONSENTED


def test_unknown_tenant_ids_never_reach_the_database(alpha_admin_client, customer, identity):
    add_tenant(alpha_admin_client, customer, str(uuid.uuid4()))

    with alpha_schema():
        assert CustomerTenant.objects.count() == 0


def test_authenticate_says_so_when_microsoft_cannot_be_reached(alpha_admin_client, contoso_tenant):
    def unreachable(request):
        raise httpx.ConnectError("connection refused", request=request)

    client = IdentityClient(
        client_id="console-dev-client",
        client_secret="console-dev-secret",
        simulator_url="http://simulator.test",
        transport=httpx.MockTransport(unreachable),
    )
    set_identity_client(client)
    try:
        response = alpha_admin_client.post(
            f"/customers/{contoso_tenant.customer_id}/tenants/{contoso_tenant.pk}/authenticate/"
        )
    finally:
        set_identity_client(None)
        client.close()

    assert response.status_code == 302
    assert "Microsoft cannot be reached" in alpha_admin_client.get(response["Location"]).content.decode()
    assert tenant_state(contoso_tenant).consent_state == ConsentState.NOT_CONSENTED
