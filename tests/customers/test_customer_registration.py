"""Customer self-registration on the partner's host: closed is 404, the form, the emailed signed link,
the partner's approval (with its permission checks) or the automatic one, the new customer's
administrator signing in and meeting the terms in force, one registration per email, the throttle."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse
from django_tenants.utils import schema_context

from customers.choices import CustomerRegistrationStatus
from customers.models import Customer, CustomerRegistration, CustomerRegistrationSettings
from portal.accounts.choices import AccessLevel, PermissionModule, UserKind
from portal.accounts.models import Role
from portal.accounts.terms import terms_publish
from portal.audit.models import AuditEvent, Notification
from tests.factories.accounts import user_with
from tests.support import host_of, second_factor_skip, signed_in_client

LINK = re.compile(r"https?://\S+")
FORM = {
    "company_name": "Fabrikam Outdoor",
    "first_name": "Fiona",
    "last_name": "Field",
    "email": "fiona@fabrikam.example",
    "phone": "+41 44 000 00 00",
    "address_line1": "Seestrasse 1",
    "postal_code": "8000",
    "city": "Zürich",
    "country": "CH",
    "vat_number": "",
    "password": "a long and unusual passphrase 42",
    "password_again": "a long and unusual passphrase 42",
}


@pytest.fixture
def schema(partner_alpha):
    return lambda: schema_context(partner_alpha.schema_name)


@pytest.fixture
def customer_role(schema):
    with schema():
        return Role.objects.create(
            name="Registered customers",
            permissions={
                PermissionModule.CUSTOMERS: AccessLevel.VIEW,
                PermissionModule.SUBSCRIPTIONS: AccessLevel.MANAGE,
            },
        )


def _open(schema, role, *, auto_approve=False):
    with schema():
        CustomerRegistrationSettings.objects.update_or_create(
            singleton=1, defaults={"allow_registration": True, "auto_approve": auto_approve, "role": role}
        )


def _register(client, django_capture_on_commit_callbacks, **changes):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("customer_registration:register"), {**FORM, **changes})


def _verify_link(partner) -> str:
    [url] = LINK.findall(mail.outbox[-1].body)
    return url.split(host_of(partner), 1)[1].lstrip(":0123456789")


def test_closed_registration_is_404_and_not_offered(alpha_client, partner_alpha, schema):
    assert alpha_client.get(reverse("customer_registration:register")).status_code == 404
    assert alpha_client.post(reverse("customer_registration:register"), FORM).status_code == 404
    assert alpha_client.get(reverse("customer_registration:sent")).status_code == 404
    assert 'data-testid="customer-register-link"' not in alpha_client.get(reverse("accounts:login")).content.decode()
    with schema():
        assert not CustomerRegistration.objects.exists()


def test_register_verify_approve_then_sign_in_and_accept_terms(
    alpha_client, partner_alpha, schema, customer_role, django_capture_on_commit_callbacks
):
    _open(schema, customer_role)
    assert 'data-testid="customer-register-link"' in alpha_client.get(reverse("accounts:login")).content.decode()
    response = _register(alpha_client, django_capture_on_commit_callbacks)
    assert response.status_code == 302 and response["Location"] == reverse("customer_registration:sent")
    assert mail.outbox[-1].to == ["fiona@fabrikam.example"]
    with schema():
        registration = CustomerRegistration.objects.get()
        assert registration.status == CustomerRegistrationStatus.AWAITING_VERIFICATION
        assert "passphrase" not in registration.password_hash

    # approving before the address is verified is refused
    admin = signed_in_client(partner_alpha)
    early = admin.post(reverse("registration_settings:decide", args=[registration.pk, "approve"]), follow=True)
    assert "its email is not verified yet" in early.content.decode()
    with schema():
        assert not Customer.objects.filter(name="Fabrikam Outdoor").exists()

    page = alpha_client.get(_verify_link(partner_alpha))
    assert 'data-testid="registration-pending"' in page.content.decode()
    with schema():
        bell = Notification.objects.get(recipient__username="admin")
        assert "Fabrikam Outdoor" in str(bell.title) and bell.url == reverse("registration_settings:index")
    listing = admin.get(reverse("registration_settings:index")).content.decode()
    assert (
        "Fabrikam Outdoor" in listing
        and reverse("registration_settings:decide", args=[registration.pk, "approve"]) in listing
    )

    confirm = admin.get(reverse("registration_settings:decide", args=[registration.pk, "approve"]))
    assert confirm.status_code == 200 and "fiona@fabrikam.example" in confirm.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(reverse("registration_settings:decide", args=[registration.pk, "approve"]))
    assert response.status_code == 302
    assert mail.outbox[-1].to == ["fiona@fabrikam.example"] and "/accounts/sign-in/" in mail.outbox[-1].body
    with schema():
        registration.refresh_from_db()
        customer = Customer.objects.get(name="Fabrikam Outdoor")
        assert registration.status == CustomerRegistrationStatus.APPROVED and registration.customer == customer
        assert customer.contact_email == "fiona@fabrikam.example" and str(customer.country) == "CH"
        user = get_user_model().objects.get(email="fiona@fabrikam.example")
        assert user.kind == UserKind.CUSTOMER_ADMIN
        assert list(user.customers.all()) == [customer] and list(user.roles.all()) == [customer_role]
        actions = set(AuditEvent.objects.values_list("action", flat=True))
        assert {
            "customer_registration.request",
            "customer_registration.verify",
            "customer_registration.approve",
            "customer.create",
        } <= actions

    # the new administrator signs in with the password chosen at registration and meets the terms first
    with schema():
        terms_publish(actor=get_user_model().objects.get(username="admin"), text="Be nice.")
    client = second_factor_skip(Client(HTTP_HOST=host_of(partner_alpha)))
    signed_in = client.post(
        reverse("accounts:login"), {"username": "fiona@fabrikam.example", "password": FORM["password"]}
    )
    assert signed_in.status_code == 302
    home = client.get(reverse("core:home"))
    assert home.status_code == 302 and reverse("accounts:terms_accept") in home["Location"]


def test_auto_approve_makes_the_customer_when_the_address_is_verified(
    alpha_client, partner_alpha, schema, customer_role, django_capture_on_commit_callbacks
):
    _open(schema, customer_role, auto_approve=True)
    _register(alpha_client, django_capture_on_commit_callbacks)
    page = alpha_client.get(_verify_link(partner_alpha))
    assert 'data-testid="registration-approved"' in page.content.decode()
    with schema():
        assert CustomerRegistration.objects.get().status == CustomerRegistrationStatus.APPROVED
        assert get_user_model().objects.get(email="fiona@fabrikam.example").customers.get().name == "Fabrikam Outdoor"
        assert AuditEvent.objects.get(action="customer_registration.approve").actor_label == "system"


def test_a_second_registration_with_the_same_email_is_refused(
    alpha_client, partner_alpha, schema, customer_role, django_capture_on_commit_callbacks
):
    _open(schema, customer_role)
    _register(alpha_client, django_capture_on_commit_callbacks)
    again = _register(
        alpha_client, django_capture_on_commit_callbacks, company_name="Fabrikam Two", email="FIONA@fabrikam.example"
    )
    assert again.status_code == 200
    assert "already has an account or a registration here" in again.content.decode()
    existing = _register(alpha_client, django_capture_on_commit_callbacks, email="admin@alpha.example")
    with schema():
        assert CustomerRegistration.objects.count() == 1
        taken = get_user_model().objects.get(username="admin").email
    if taken != "admin@alpha.example":
        existing = _register(alpha_client, django_capture_on_commit_callbacks, email=taken)
    assert "already has an account or a registration here" in existing.content.decode()


def test_the_form_is_throttled_per_email(alpha_client, partner_alpha, schema, customer_role, settings):
    _open(schema, customer_role)
    settings.CUSTOMER_REGISTRATION_REQUESTS = 2
    bad = {**FORM, "password_again": "something else"}
    statuses = [alpha_client.post(reverse("customer_registration:register"), bad).status_code for _ in range(3)]
    # an invalid form is not counted; valid requests are
    assert statuses == [200, 200, 200]
    for number in range(2):
        alpha_client.post(reverse("customer_registration:register"), {**FORM, "company_name": f"Org {number}"})
    locked = alpha_client.post(reverse("customer_registration:register"), {**FORM, "company_name": "Org 3"})
    assert locked.status_code == 429 and "Too many registrations" in locked.content.decode()


def test_approval_needs_settings_and_customers_management(
    alpha_client, partner_alpha, schema, customer_role, django_capture_on_commit_callbacks
):
    _open(schema, customer_role)
    _register(alpha_client, django_capture_on_commit_callbacks)
    alpha_client.get(_verify_link(partner_alpha))
    with schema():
        registration = CustomerRegistration.objects.get()
        user_with(
            "viewer", {PermissionModule.SETTINGS: AccessLevel.VIEW, PermissionModule.CUSTOMERS: AccessLevel.MANAGE}
        )
        user_with("settings_only", {PermissionModule.SETTINGS: AccessLevel.MANAGE})
        customer = Customer.objects.create(name="Contoso")
        user_with(
            "tenant_admin",
            {PermissionModule.CUSTOMERS: AccessLevel.MANAGE},
            kind=UserKind.CUSTOMER_ADMIN,
            customers=[customer],
        )
    url = reverse("registration_settings:decide", args=[registration.pk, "approve"])
    for username in ("viewer", "settings_only", "tenant_admin"):
        client = signed_in_client(partner_alpha, username)
        assert client.post(url).status_code in (403, 404), username
    with schema():
        registration.refresh_from_db()
        assert registration.status == CustomerRegistrationStatus.PENDING_APPROVAL
        assert not Customer.objects.filter(name="Fabrikam Outdoor").exists()
    viewer_page = signed_in_client(partner_alpha, "viewer").get(reverse("registration_settings:index")).content.decode()
    assert "Fabrikam Outdoor" in viewer_page and url not in viewer_page


def test_reject_records_and_frees_the_email(
    alpha_client, partner_alpha, schema, customer_role, django_capture_on_commit_callbacks
):
    _open(schema, customer_role)
    _register(alpha_client, django_capture_on_commit_callbacks)
    alpha_client.get(_verify_link(partner_alpha))
    with schema():
        registration = CustomerRegistration.objects.get()
    admin = signed_in_client(partner_alpha)
    admin.post(reverse("registration_settings:decide", args=[registration.pk, "reject"]))
    with schema():
        registration.refresh_from_db()
        assert registration.status == CustomerRegistrationStatus.REJECTED and registration.password_hash == ""
        assert AuditEvent.objects.filter(action="customer_registration.reject").count() == 1
        assert not Customer.objects.filter(name="Fabrikam Outdoor").exists()
    again = _register(alpha_client, django_capture_on_commit_callbacks)
    assert again.status_code == 302


def test_settings_need_a_role_to_open(alpha_admin_client, partner_alpha, schema):
    response = alpha_admin_client.post(reverse("registration_settings:index"), {"allow_registration": "on"})
    assert response.status_code == 200 and "Choose the role" in response.content.decode()
    with schema():
        assert not CustomerRegistrationSettings.objects.filter(allow_registration=True).exists()


def test_a_wrong_link_is_404(alpha_client, schema, customer_role):
    _open(schema, customer_role)
    assert alpha_client.get(reverse("customer_registration:verify", args=["nope"])).status_code == 404
