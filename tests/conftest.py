"""Test fixtures: two partners provisioned once per test database, each test in a transaction.

The partners are committed by the session setup (like the rows of a real deployment); every test
runs inside pytest-django's transaction, so whatever a test writes, in any schema, including a
whole new partner schema, is rolled back. Never use `transaction=True` tests: their flush only
empties the public schema.
"""

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from portal.partners.models import Partner
from portal.partners.selectors import partner_by_slug
from portal.partners.services import partner_create, partner_template_ensure, platform_ensure
from tests.support import PASSWORD, host_of, signed_in_client


def _partner(slug: str, name: str, *, large_account_reseller: bool) -> Partner:
    partner = partner_by_slug(slug=slug)
    if partner is None:
        partner = partner_create(
            name=name,
            slug=slug,
            admin_email=f"admin@{slug}.example",
            admin_password=PASSWORD,
            is_service_provider=True,
            is_large_account_reseller=large_account_reseller,
        ).partner
    return partner


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        if not connection.settings_dict["NAME"].startswith("test_"):
            # pytest-django sets up only the databases its selected tests ask for by marker; a run of browser
            # tests alone asks for none, and must still never touch the development database
            from django.test.utils import setup_databases

            setup_databases(verbosity=0, interactive=False, aliases={"default"})
        platform_ensure()
        partner_template_ensure()
        _partner("alpha", "Alpha IT Services", large_account_reseller=False)
        _partner("beta", "Beta Distribution", large_account_reseller=True)
        connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def _public_schema_after_test():
    yield
    connection.set_schema_to_public()


@pytest.fixture
def partner_alpha(db) -> Partner:
    return Partner.objects.get(slug="alpha")


@pytest.fixture
def partner_beta(db) -> Partner:
    return Partner.objects.get(slug="beta")


@pytest.fixture
def in_alpha(partner_alpha):
    """Run the test body inside alpha's schema (for factories and services)."""
    with schema_context(partner_alpha.schema_name):
        yield partner_alpha


@pytest.fixture
def alpha_client(partner_alpha) -> Client:
    return Client(HTTP_HOST=host_of(partner_alpha))


@pytest.fixture
def beta_client(partner_beta) -> Client:
    return Client(HTTP_HOST=host_of(partner_beta))


@pytest.fixture
def alpha_admin_client(partner_alpha) -> Client:
    return signed_in_client(partner_alpha)


@pytest.fixture
def beta_admin_client(partner_beta) -> Client:
    return signed_in_client(partner_beta)
