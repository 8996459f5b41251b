"""Brute force against the sign-in: failures lock the account and the address, with growing delays."""

import re

from django.core import mail
from django.test import Client
from django_tenants.utils import schema_context

from portal.audit.models import AuditEvent
from portal.authentication.models import SignInThrottle
from tests.factories import UserFactory
from tests.support import PASSWORD, host_of, signed_in_client


def sign_in(client: Client, username: str, password: str):
    return client.post("/accounts/sign-in/", {"username": username, "password": password})


def test_forty_wrong_passwords_then_the_right_one_does_not_sign_in(partner_alpha, alpha_client):
    for _attempt in range(40):
        sign_in(alpha_client, "admin", "wrong-password")

    response = sign_in(alpha_client, "admin", PASSWORD)

    assert response.status_code == 429
    body = response.content.decode()
    assert re.search(
        r"Too many failed sign-ins for this account, so it is locked. Try again in (\d+ seconds|1 minute)", body
    )
    assert alpha_client.get("/").status_code == 302  # not signed in
    with schema_context(partner_alpha.schema_name):
        assert AuditEvent.objects.filter(action="user.lock", result="failure").count() == 1
        assert AuditEvent.objects.filter(action="user.sign_in", result="failure").count() == 41


def test_each_new_lock_lasts_twice_as_long(partner_alpha, alpha_client):
    with schema_context(partner_alpha.schema_name):
        user = UserFactory(username="pat")
    for _attempt in range(5):
        sign_in(alpha_client, "pat", "wrong-password")
    with schema_context(partner_alpha.schema_name):
        throttle = SignInThrottle.objects.get(scope="account", user=user)
        assert throttle.lock_level == 1
        SignInThrottle.objects.filter(pk=throttle.pk).update(locked_until=throttle.last_locked_at)  # time passes
    for _attempt in range(5):
        response = sign_in(alpha_client, "pat", "wrong-password")
    assert "Try again in 2 minutes" in response.content.decode()


def test_an_unknown_name_is_locked_like_a_real_one(alpha_client):
    for _attempt in range(5):
        sign_in(alpha_client, "nobody-here", "wrong-password")
    response = sign_in(alpha_client, "nobody-here", "wrong-password")
    assert response.status_code == 429
    assert "Too many failed sign-ins for this account" in response.content.decode()


def test_one_address_spraying_many_accounts_is_locked(partner_alpha):
    client = Client(HTTP_HOST=host_of(partner_alpha), REMOTE_ADDR="203.0.113.9")
    for index in range(20):
        sign_in(client, f"guess{index}", "wrong-password")
    response = sign_in(client, "admin", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-ins from your network" in response.content.decode()
    # another address is not affected
    assert sign_in(Client(HTTP_HOST=host_of(partner_alpha)), "admin", PASSWORD).status_code == 302


def test_an_administrator_sees_and_unlocks_a_locked_user_and_it_is_audited(partner_alpha, alpha_client):
    with schema_context(partner_alpha.schema_name):
        sam = UserFactory(username="sam")
    for _attempt in range(5):
        sign_in(alpha_client, "sam", "wrong-password")
    admin = signed_in_client(partner_alpha)

    listing = admin.get("/settings/users/").content.decode()
    assert 'data-testid="locked-users"' in listing and 'data-user="sam"' in listing
    assert admin.get(f"/settings/users/{sam.pk}/unlock/").status_code == 200  # asks first
    response = admin.post(f"/settings/users/{sam.pk}/unlock/")

    assert response.status_code == 302
    assert sign_in(alpha_client, "sam", PASSWORD).status_code == 302
    with schema_context(partner_alpha.schema_name):
        event = AuditEvent.objects.get(action="user.unlock")
        assert (event.actor.username, event.target_id) == ("admin", str(sam.pk))
    assert 'data-testid="locked-users"' not in admin.get("/settings/users/").content.decode()


def test_the_owner_unlocks_with_the_emailed_link_once(partner_alpha, alpha_client, django_capture_on_commit_callbacks):
    with schema_context(partner_alpha.schema_name):
        UserFactory(username="kim", email="kim@alpha.example")
    with django_capture_on_commit_callbacks(execute=True):
        for _attempt in range(5):
            sign_in(alpha_client, "kim", "wrong-password")
    (message,) = [m for m in mail.outbox if "kim@alpha.example" in m.to]
    assert "locked" in message.subject
    path = re.search(r"https?://[^/]+(/accounts/unlock/[^/\s]+/)", message.body).group(1)

    owner = Client(HTTP_HOST=host_of(partner_alpha))
    assert owner.get(path).status_code == 200  # a mail scanner opening the link unlocks nothing
    assert sign_in(owner, "kim", PASSWORD).status_code == 429
    response = owner.post(path, follow=True)

    assert "Your account is unlocked" in response.content.decode()
    assert sign_in(owner, "kim", PASSWORD).status_code == 302
    again = Client(HTTP_HOST=host_of(partner_alpha)).post(path, follow=True)
    assert "not locked any more" in again.content.decode()
    with schema_context(partner_alpha.schema_name):
        event = AuditEvent.objects.get(action="user.unlock")
        assert event.actor.username == "kim"


def test_a_right_password_alone_does_not_forget_earlier_failures(partner_alpha, alpha_client):
    """Only a full sign-in (second factor too) resets the count: else a known password buys endless code guesses."""
    for _attempt in range(4):
        sign_in(alpha_client, "admin", "wrong-password")
    assert sign_in(alpha_client, "admin", PASSWORD)["Location"].startswith("/accounts/sign-in/enrol/")
    client = Client(HTTP_HOST=host_of(partner_alpha))
    sign_in(client, "admin", "wrong-password")
    assert sign_in(client, "admin", PASSWORD).status_code == 429


def test_password_reset_requests_are_throttled(partner_alpha, alpha_client):
    for _attempt in range(3):
        response = alpha_client.post("/accounts/password/reset/", {"email": "admin@alpha.example"})
        assert response.status_code == 302
    response = alpha_client.post("/accounts/password/reset/", {"email": "admin@alpha.example"})
    assert response.status_code == 429
    assert "Too many password reset requests. Try again in" in response.content.decode()


def test_locks_are_per_partner(partner_alpha, partner_beta, alpha_client):
    for _attempt in range(6):
        sign_in(alpha_client, "admin", "wrong-password")
    assert sign_in(alpha_client, "admin", PASSWORD).status_code == 429
    assert sign_in(Client(HTTP_HOST=host_of(partner_beta)), "admin", PASSWORD).status_code == 302
