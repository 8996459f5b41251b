"""Every password sign-in attempt lands in the audit trail, successful or not (ASVS V7)."""

from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from portal.audit.models import AuditEvent
from tests.factories import UserFactory
from tests.support import PASSWORD


def sign_in_events(partner) -> list[AuditEvent]:
    with schema_context(partner.schema_name):
        return list(AuditEvent.objects.filter(action="user.sign_in").order_by("id"))


def test_a_password_sign_in_is_audited(partner_alpha, alpha_client):
    alpha_client.post("/accounts/sign-in/", {"username": "ADMIN@alpha.example", "password": PASSWORD})

    (event,) = sign_in_events(partner_alpha)
    assert (event.actor.username, event.result, event.after) == ("admin", "success", {"method": "password"})
    assert event.target_label == "admin"
    assert event.ip_address == "127.0.0.1"


def test_a_wrong_password_is_audited_against_the_account_it_aimed_at(partner_alpha, alpha_client):
    alpha_client.post("/accounts/sign-in/", {"username": "admin", "password": "wrong"})

    (event,) = sign_in_events(partner_alpha)
    assert (event.actor, event.actor_label, event.result) == (None, "admin", "failure")
    with schema_context(partner_alpha.schema_name):
        assert event.target_id == str(get_user_model().objects.get(username="admin").pk)


def test_an_unknown_username_is_audited_too(partner_alpha, alpha_client):
    alpha_client.post("/accounts/sign-in/", {"username": "nobody@else.example", "password": "wrong"})

    (event,) = sign_in_events(partner_alpha)
    assert (event.actor_label, event.result, event.target_id) == ("nobody@else.example", "failure", "")


def test_a_deactivated_user_is_refused_and_audited(partner_alpha, alpha_client):
    with schema_context(partner_alpha.schema_name):
        gone = UserFactory(username="gone", is_active=False)

    response = alpha_client.post("/accounts/sign-in/", {"username": "gone", "password": PASSWORD})

    assert response.status_code == 200
    assert "The username, email or password is not right" in response.content.decode()
    (event,) = sign_in_events(partner_alpha)
    assert (event.result, event.actor_label, event.target_id) == ("failure", "gone", str(gone.pk))
