"""Terms and conditions with versions: published in Settings, accepted by every user before going on,
each acceptance recorded with its version and time; a new version is accepted again."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_tenants.utils import schema_context

from portal.accounts.models import TermsAcceptance, TermsVersion
from portal.audit.models import AuditEvent
from tests.factories.accounts import user_with
from tests.support import signed_in_client


@pytest.fixture(autouse=True)
def forget_cached_version(partner_alpha):
    """The version in force is cached outside the test's transaction: forget it after each test."""
    yield
    from django.core.cache import cache

    from portal.accounts.terms import TERMS_CACHE_KEY

    with schema_context(partner_alpha.schema_name):
        cache.delete(TERMS_CACHE_KEY)


def test_without_published_terms_nobody_is_asked(alpha_admin_client):
    assert alpha_admin_client.get(reverse("core:home")).status_code == 200


def test_published_terms_are_accepted_before_going_on_and_again_for_a_new_version(partner_alpha, alpha_admin_client):
    response = alpha_admin_client.post(reverse("settings:terms"), {"text": "Be kind to the marketplace."})
    assert response.status_code == 302

    home = alpha_admin_client.get(reverse("customers:customer_list"))
    assert home.status_code == 302
    assert home["Location"] == reverse("accounts:terms_accept") + "?next=%2Fcustomers%2F"
    page = alpha_admin_client.get(home["Location"]).content.decode()
    assert "Be kind to the marketplace." in page and "version 1" in page

    with schema_context(partner_alpha.schema_name):
        first = TermsVersion.objects.get()
    accepted = alpha_admin_client.post(reverse("accounts:terms_accept"), {"terms": first.pk, "next": "/customers/"})
    assert accepted["Location"] == "/customers/"
    assert alpha_admin_client.get("/customers/").status_code == 200

    alpha_admin_client.post(reverse("settings:terms"), {"text": "Version two."})
    assert alpha_admin_client.get("/customers/").status_code == 302
    with schema_context(partner_alpha.schema_name):
        second = TermsVersion.objects.get(version=2)
        alpha_admin_client.post(reverse("accounts:terms_accept"), {"terms": second.pk})
        acceptances = list(TermsAcceptance.objects.values_list("terms__version", flat=True).order_by("terms__version"))
        assert acceptances == [1, 2]
        assert AuditEvent.objects.filter(action="terms.accept").count() == 2
        assert AuditEvent.objects.filter(action="terms.publish").count() == 2


def test_accepting_an_older_version_than_the_one_in_force_does_not_count(partner_alpha, alpha_admin_client):
    from portal.accounts.terms import terms_publish

    with schema_context(partner_alpha.schema_name):
        old = terms_publish(actor=None, text="One.")
        terms_publish(actor=None, text="Two.")

    response = alpha_admin_client.post(reverse("accounts:terms_accept"), {"terms": old.pk})

    assert response.status_code == 200 and "The terms changed" in response.content.decode()
    with schema_context(partner_alpha.schema_name):
        assert not TermsAcceptance.objects.exists()


def test_only_settings_managers_publish(partner_alpha, in_alpha):
    user_with("reader", {"settings": 1})
    reader = signed_in_client(partner_alpha, username="reader")

    assert reader.post(reverse("settings:terms"), {"text": "Mine."}).status_code == 403
    assert not TermsVersion.objects.exists()
