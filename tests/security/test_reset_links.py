"""Password-reset links are built from the partner's configured address, never from the request.

The attack: ``Host: alpha.console.test:6666`` passes ALLOWED_HOSTS (which ignores ports) and reaches alpha,
and the console mailed a reset link to that host and port, where an attacker would collect the token.
"""

import re

from django.core import mail

from tests.factories import UserFactory


def reset(client, django_capture_on_commit_callbacks, **extra):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/accounts/password/reset/", {"email": "maria@alpha.example"}, **extra)


def test_a_host_with_another_port_is_refused_and_no_mail_leaves(
    alpha_client, in_alpha, django_capture_on_commit_callbacks
):
    UserFactory(username="maria", email="maria@alpha.example")

    response = reset(alpha_client, django_capture_on_commit_callbacks, HTTP_HOST="alpha.console.test:6666")

    assert response.status_code == 400
    assert mail.outbox == []


def test_a_host_of_another_name_that_reaches_the_partner_is_refused(
    alpha_client, in_alpha, django_capture_on_commit_callbacks, settings
):
    UserFactory(username="maria", email="maria@alpha.example")
    settings.PORTAL_PORT = "8000"

    for host in ("alpha.console.test", "alpha.console.test:6666"):
        response = reset(alpha_client, django_capture_on_commit_callbacks, HTTP_HOST=host)
        assert response.status_code == 400, host

    assert mail.outbox == []


def test_the_link_uses_the_configured_scheme_host_and_port(
    alpha_client, in_alpha, django_capture_on_commit_callbacks, settings
):
    UserFactory(username="maria", email="maria@alpha.example")
    settings.PORTAL_SCHEME = "https"
    settings.PORTAL_PORT = "8443"

    response = reset(alpha_client, django_capture_on_commit_callbacks, HTTP_HOST="alpha.console.test:8443")

    assert response.status_code == 302
    (message,) = mail.outbox
    links = re.findall(r"\w+://\S+", message.body)
    assert links and all(link.startswith("https://alpha.console.test:8443/accounts/password/reset/") for link in links)
