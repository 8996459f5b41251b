"""The access matrix (tests/portal/test_access_matrix.py) walked over the lifecycle's own URLs only, so a
failure here names a lifecycle screen; the full matrix walks them too."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.portal.test_access_matrix import PLAIN_ARGUMENTS, console_urls, object_arguments
from tests.support import PASSWORD, host_of, signed_in_client


def lifecycle_urls():
    return [(name, route, arguments) for name, route, arguments in console_urls() if name.startswith("subscriptions:")]


def test_there_are_lifecycle_urls():
    assert len(lifecycle_urls()) > 10


def test_anonymous_and_other_partners_are_sent_to_sign_in(world, partner_alpha, partner_beta):
    anonymous = Client(HTTP_HOST=host_of(partner_alpha))
    intruder = Client(HTTP_HOST=host_of(partner_alpha))
    intruder.cookies["sessionid"] = signed_in_client(partner_beta).cookies["sessionid"].value
    problems = []
    for client in (anonymous, intruder):
        for name, route, arguments in lifecycle_urls():
            response = client.get(reverse(name, kwargs=object_arguments(world, name, arguments)))
            if response.status_code != 302 or not response["Location"].startswith("/accounts/sign-in/"):
                problems.append(f"{name} ({route}): {response.status_code}")
    assert problems == []


def test_a_customer_tenant_admin_of_another_customer_sees_nothing(world, partner_alpha):
    client = signed_in_client(partner_alpha, username="tenantadmin", password=PASSWORD)
    problems = []
    for name, route, arguments in lifecycle_urls():
        response = client.get(reverse(name, kwargs=object_arguments(world, name, arguments)))
        expected = {404} if any(a not in PLAIN_ARGUMENTS for a in arguments) else {200, 403, 404, 405}
        if response.status_code not in expected:
            problems.append(f"{name} ({route}): {response.status_code}")
    assert problems == []


@pytest.mark.parametrize("method", ["get"])
def test_the_administrator_opens_every_lifecycle_page(world, partner_alpha, method):
    client = signed_in_client(partner_alpha)
    problems = []
    for name, route, arguments in lifecycle_urls():
        response = client.get(reverse(name, kwargs=object_arguments(world, name, arguments)))
        if response.status_code not in {200, 302, 405}:
            problems.append(f"{name} ({route}): {response.status_code}")
    assert problems == []
