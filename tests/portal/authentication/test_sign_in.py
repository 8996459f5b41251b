import re

from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext
from django_tenants.utils import schema_context

from tests.factories import UserFactory
from tests.support import PASSWORD, host_of, second_factor_skip, signed_in_client


def test_sign_in_with_username_shows_the_console(alpha_client):
    response = alpha_client.post("/accounts/sign-in/", {"username": "admin", "password": PASSWORD})
    # Require MFA is on for new partners: the admin, who has no factor yet, is led to enrol one first.
    assert response["Location"] == "/accounts/sign-in/enrol/?next=%2F"
    response = second_factor_skip(alpha_client).get("/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "Welcome, admin" in body
    assert 'data-section="customers"' in body
    # alpha is a service provider only: no reseller sections
    assert 'data-section="resellers"' not in body


def test_sign_in_with_email_is_case_insensitive(alpha_client):
    response = alpha_client.post("/accounts/sign-in/", {"username": "ADMIN@alpha.example", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/sign-in/enrol/?next=%2F"


def test_wrong_password_re_renders_with_a_clear_message(alpha_client):
    response = alpha_client.post("/accounts/sign-in/", {"username": "admin", "password": "wrong"})

    assert response.status_code == 200
    assert "The username, email or password is not right" in response.content.decode()
    assert 'value="admin"' in response.content.decode()


def test_a_partner_that_is_both_kinds_gets_services_and_licenses_tabs(beta_admin_client):
    body = beta_admin_client.get("/").content.decode()
    assert ">\n          Services\n" in body or "Services" in body
    assert "Licences" in body

    licenses = beta_admin_client.get("/?tab=licenses").content.decode()
    assert 'data-section="resellers"' in licenses
    assert 'data-section="pools"' in licenses
    assert 'data-section="customers"' not in licenses


def test_sections_outside_the_partner_kind_are_not_found(alpha_admin_client, beta_admin_client):
    assert alpha_admin_client.get("/pools/").status_code == 404
    page = beta_admin_client.get("/pools/")
    assert page.status_code == 200
    assert "Reseller dashboard" in page.content.decode()


def test_sign_out_ends_the_session(alpha_admin_client):
    assert alpha_admin_client.get("/").status_code == 200

    response = alpha_admin_client.post("/accounts/sign-out/")

    assert response.status_code == 302
    assert alpha_admin_client.get("/").status_code == 302


def test_a_session_cookie_of_one_partner_does_not_authenticate_at_another(partner_alpha, partner_beta):
    alpha = signed_in_client(partner_alpha)
    cookie = alpha.cookies["sessionid"].value

    intruder = Client(HTTP_HOST=host_of(partner_beta))
    intruder.cookies["sessionid"] = cookie
    response = intruder.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/sign-in/")
    # and the same cookie still works where it belongs
    assert alpha.get("/").status_code == 200


def test_a_session_copied_into_another_schema_is_refused(partner_alpha, partner_beta):
    """Defence in depth: even a session row present in another schema is bound to its own."""
    from django.contrib.sessions.models import Session

    alpha = signed_in_client(partner_alpha)
    key = alpha.cookies["sessionid"].value
    with schema_context(partner_alpha.schema_name):
        session = Session.objects.get(session_key=key)
    with schema_context(partner_beta.schema_name):
        Session.objects.create(session_key=key, session_data=session.session_data, expire_date=session.expire_date)

    intruder = Client(HTTP_HOST=host_of(partner_beta))
    intruder.cookies["sessionid"] = key

    assert intruder.get("/").status_code == 302


def test_password_reset_email_links_to_the_partner_host(alpha_client, in_alpha, django_capture_on_commit_callbacks):
    user = UserFactory(username="maria", email="maria@alpha.example")

    with django_capture_on_commit_callbacks(execute=True):
        response = alpha_client.post("/accounts/password/reset/", {"email": "Maria@alpha.example"})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["maria@alpha.example"]
    link = re.search(r"http://alpha\.console\.test(/accounts/password/reset/\S+)", message.body)
    assert link, message.body

    form = alpha_client.get(link.group(1), follow=True)
    assert "Choose a new password" in form.content.decode()
    done = alpha_client.post(
        form.redirect_chain[-1][0], {"new_password1": "a-brand-new-pass-42", "new_password2": "a-brand-new-pass-42"}
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-brand-new-pass-42")


def test_password_reset_for_an_unknown_email_sends_nothing_and_says_the_same(
    alpha_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = alpha_client.post("/accounts/password/reset/", {"email": "nobody@alpha.example"}, follow=True)

    assert "Check your email" in response.content.decode()
    assert mail.outbox == []


def test_profile_shows_the_account_and_saves_changes(alpha_admin_client, partner_alpha):
    page = alpha_admin_client.get("/accounts/profile/").content.decode()
    with schema_context(partner_alpha.schema_name):
        admin = get_user_model().objects.get(username="admin")
    assert str(admin.account_id) in page
    assert "Alpha IT Services" in page
    assert f'data-testid="tenant-id">{partner_alpha.tenant_id}<' in page
    assert 'data-testid="contact-information"' in page and admin.email in page

    try:
        response = alpha_admin_client.post(
            "/accounts/profile/",
            {
                "first_name": "Ada",
                "last_name": "Lovelace",
                "organisation_name": "Alpha IT",
                "phone": "+43 1 234 56 78",
                "language": "de",
                "time_zone": "Europe/Berlin",
            },
            follow=True,
        )

        with translation.override("de"):
            saved = gettext("Your profile was saved.")
        assert saved != "Your profile was saved."  # the German catalog is compiled and has it
        assert saved in response.content.decode()
        assert '<html lang="de">' in response.content.decode()
        with schema_context(partner_alpha.schema_name):
            admin.refresh_from_db()
        assert (admin.first_name, admin.last_name, admin.organisation_name, admin.language, admin.time_zone) == (
            "Ada",
            "Lovelace",
            "Alpha IT",
            "de",
            "Europe/Berlin",
        )
        assert response["Content-Language"] == "de"
    finally:  # the session's administrator is shared by other tests, which read English
        with schema_context(partner_alpha.schema_name):
            get_user_model().objects.filter(pk=admin.pk).update(language="en", time_zone="UTC")


def test_profile_rejects_an_unknown_language(alpha_admin_client):
    response = alpha_admin_client.post(
        "/accounts/profile/", {"first_name": "Ada", "last_name": "", "organisation_name": "", "language": "xx"}
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_profile_saved_through_htmx_returns_the_form_and_the_message_out_of_band(alpha_admin_client):
    response = alpha_admin_client.post(
        "/accounts/profile/",
        {"first_name": "Ada", "last_name": "", "organisation_name": "", "language": "en", "time_zone": "UTC"},
        headers={"HX-Request": "true"},
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<form method="post" novalidate id="profile-form"')
    assert 'id="messages" class="console-messages" hx-swap-oob="true"' in body
    assert "Your profile was saved." in body
    assert "console-sidebar" not in body


def test_settings_pages_outside_settings_path_highlight_the_settings_section():
    from portal.core.navigation import section_for_path

    assert section_for_path("/microsoft/settings/").key == "settings"
    assert section_for_path("/settings/users/").key == "settings"
    assert section_for_path("/customers/12/").key == "customers"
    assert section_for_path("/").key == "home"
    assert section_for_path("/accounts/profile/") is None


def test_a_tab_is_offered_only_with_a_section_of_its_own_and_partner_facts_only_to_partner_users(partner_beta):
    from customers.models import Customer
    from portal.accounts.choices import AccessLevel, PermissionModule, UserKind
    from tests.factories.accounts import user_with

    levels = {PermissionModule.CUSTOMERS: AccessLevel.VIEW, PermissionModule.SUBSCRIPTIONS: AccessLevel.VIEW}
    with schema_context(partner_beta.schema_name):
        user_with("desk", levels)
        customer = Customer.objects.create(name="Adatum")
        user_with("tenantadmin", levels, kind=UserKind.CUSTOMER_ADMIN, customers=[customer], all_customers=False)

    desk = signed_in_client(partner_beta, "desk").get("/").content.decode()
    assert "?tab=licenses" not in desk  # a Licences tab holding only Home is no tab
    assert "Active users" in desk

    tenant_admin = signed_in_client(partner_beta, "tenantadmin").get("/").content.decode()
    assert "?tab=licenses" not in tenant_admin
    assert "Active users" not in tenant_admin and "Default currency" not in tenant_admin  # the partner's own facts
