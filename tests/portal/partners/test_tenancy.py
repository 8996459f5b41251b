from django.test import Client

from portal.partners.choices import PartnerStatus
from tests.support import host_of


def test_partner_is_resolved_by_host(alpha_client, beta_client):
    alpha_page = alpha_client.get("/accounts/sign-in/")
    beta_page = beta_client.get("/accounts/sign-in/")

    assert alpha_page.status_code == 200
    assert "Alpha IT Services" in alpha_page.content.decode()
    assert "Beta Distribution" in beta_page.content.decode()


def test_console_pages_need_sign_in(alpha_client):
    response = alpha_client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/sign-in/?next=/"


def test_unknown_host_gets_a_clear_404_page(db):
    response = Client(HTTP_HOST="nobody.console.test").get("/")

    assert response.status_code == 404
    body = response.content.decode()
    assert "No console at this address" in body
    assert "nobody.console.test" in body


def test_public_host_serves_the_landing_page(db):
    response = Client(HTTP_HOST="console.test").get("/")

    assert response.status_code == 200
    assert "Sign in to your console" in response.content.decode()


def test_landing_page_sends_the_user_to_the_partner_host(db):
    response = Client(HTTP_HOST="console.test").post("/", {"partner": "Alpha"})

    assert response.status_code == 302
    assert response["Location"] == "http://alpha.console.test/accounts/sign-in/"


def test_landing_page_explains_an_unknown_partner(db):
    response = Client(HTTP_HOST="console.test").post("/", {"partner": "gamma"})

    assert response.status_code == 200
    assert "No partner is called &#x27;gamma&#x27;" in response.content.decode()


def test_public_host_has_the_platform_admin_and_partner_hosts_do_not(alpha_client):
    assert Client(HTTP_HOST="console.test").get("/admin/").status_code == 302
    assert alpha_client.get("/admin/").status_code == 302
    assert alpha_client.get("/admin/").get("Location", "").startswith("/accounts/sign-in/")


def test_suspended_partner_is_refused(partner_alpha):
    partner_alpha.status = PartnerStatus.SUSPENDED
    partner_alpha.save(update_fields=["status"])

    response = Client(HTTP_HOST=host_of(partner_alpha)).get("/accounts/sign-in/")

    assert response.status_code == 403
    assert "This console is suspended" in response.content.decode()


def test_cache_keys_are_per_partner(partner_alpha, partner_beta):
    from django.core.cache import cache
    from django_tenants.utils import schema_context

    with schema_context(partner_alpha.schema_name):
        cache.set("greeting", "alpha", 30)
    with schema_context(partner_beta.schema_name):
        assert cache.get("greeting") is None
        cache.set("greeting", "beta", 30)
    with schema_context(partner_alpha.schema_name):
        assert cache.get("greeting") == "alpha"
        cache.delete("greeting")
    with schema_context(partner_beta.schema_name):
        cache.delete("greeting")


def test_health_check_answers_on_partner_and_public_hosts(alpha_client):
    assert alpha_client.get("/healthz").content == b"ok"
    assert Client(HTTP_HOST="console.test").get("/healthz").content == b"ok"
