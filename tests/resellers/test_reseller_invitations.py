"""Single invitations: the search order, who may be invited, the email invitation, and the reseller's answer."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django_tenants.utils import schema_context

from portal.audit.models import AuditEvent, Notification
from resellers.choices import CandidateMatch, ResellerStatus
from resellers.models import ResellerLink
from resellers.selectors import reseller_candidates
from resellers.services import (
    reseller_invitation_accept,
    reseller_invitation_decline,
    reseller_invite,
    reseller_invite_by_email,
)
from tests.pools.pool_support import admin_of, partner_make
from tests.support import signed_in_client


@pytest.fixture
def others(db):
    """Two more partners: another large account reseller, and a service provider called Delta Corp."""
    return {
        "lar": partner_make("gamma-lar", large_account_reseller=True, name="Gamma Licensing"),
        "delta": partner_make("delta-corp", name="Delta Corp"),
    }


def _slugs(search) -> list[str]:
    return [candidate.partner.slug for candidate in search.candidates]


def test_search_finds_the_tenant_owner_first_then_domain_and_organisation_name(partner_beta, partner_alpha, others):
    by_owner = reseller_candidates(
        large_account_reseller=partner_beta, email="ADMIN@alpha.example", organisation_name="Delta"
    )
    assert by_owner.match == CandidateMatch.OWNER_EMAIL
    assert _slugs(by_owner) == ["alpha"]  # the owner wins: the name is not even looked at

    by_domain_and_name = reseller_candidates(
        large_account_reseller=partner_beta, email="someone@alpha.example", organisation_name="delta"
    )
    assert by_domain_and_name.match == CandidateMatch.DOMAIN_OR_NAME
    assert _slugs(by_domain_and_name) == ["alpha", "delta-corp"]

    nobody = reseller_candidates(large_account_reseller=partner_beta, email="someone@nowhere.example")
    assert nobody.match == CandidateMatch.NONE and not nobody.found


def test_a_public_mail_domain_finds_nobody_by_domain(partner_beta, partner_alpha):
    search = reseller_candidates(large_account_reseller=partner_beta, email="someone@gmail.com")
    assert not search.found


def test_another_large_account_reseller_is_found_but_cannot_be_invited(partner_beta, others):
    search = reseller_candidates(large_account_reseller=partner_beta, email="admin@gamma-lar.example")
    (candidate,) = search.candidates
    assert not candidate.invitable
    assert candidate.reason == "Another large account reseller cannot be invited."
    with schema_context(partner_beta.schema_name), pytest.raises(ValidationError) as excinfo:
        reseller_invite(actor=admin_of(partner_beta), large_account_reseller=partner_beta, reseller=others["lar"])
    assert "Another large account reseller cannot be invited." in excinfo.value.messages
    assert not ResellerLink.objects.exists()


def test_inviting_a_registered_partner_notifies_it_and_audits_at_the_lar(partner_beta, partner_alpha):
    with schema_context(partner_beta.schema_name):
        link = reseller_invite(
            actor=admin_of(partner_beta), large_account_reseller=partner_beta, reseller=partner_alpha
        )
        assert AuditEvent.objects.filter(action="reseller.invite", target_id=str(link.pk)).count() == 1
    assert link.status == ResellerStatus.PENDING and link.email == "admin@alpha.example"
    with schema_context(partner_alpha.schema_name):
        notification = Notification.objects.get()
        assert notification.title == "Beta Distribution invited you to be its reseller"
        assert notification.url == "/resellers/my-providers/"
        assert not AuditEvent.objects.filter(action="reseller.invite").exists()
    with schema_context(partner_beta.schema_name), pytest.raises(ValidationError) as excinfo:
        reseller_invite(actor=admin_of(partner_beta), large_account_reseller=partner_beta, reseller=partner_alpha)
    assert "already in your reseller directory" in excinfo.value.messages[0]


def test_a_partner_is_not_its_own_reseller(partner_beta):
    with schema_context(partner_beta.schema_name), pytest.raises(ValidationError):
        reseller_invite(actor=admin_of(partner_beta), large_account_reseller=partner_beta, reseller=partner_beta)


def test_an_unregistered_address_gets_an_email_after_commit(partner_beta, django_capture_on_commit_callbacks):
    with schema_context(partner_beta.schema_name), django_capture_on_commit_callbacks(execute=True):
        link = reseller_invite_by_email(
            actor=admin_of(partner_beta),
            large_account_reseller=partner_beta,
            email="Owner@NewReseller.example",
            organisation_name="New Reseller",
        )
        assert mail.outbox == []  # not before the commit
    assert link.status == ResellerStatus.UNMAPPED and link.reseller is None
    (message,) = mail.outbox
    assert message.to == ["owner@newreseller.example"]
    assert message.subject == "Beta Distribution invites you to become its reseller"
    assert "http://console.test/" in message.body
    link.refresh_from_db()
    assert link.invitation_email_sent_at is not None
    with schema_context(partner_beta.schema_name), pytest.raises(ValidationError) as excinfo:
        reseller_invite_by_email(actor=None, large_account_reseller=partner_beta, email="owner@newreseller.example")
    assert "already invited" in excinfo.value.messages[0]


def test_a_registered_address_is_invited_as_the_partner(partner_beta, partner_alpha):
    with schema_context(partner_beta.schema_name), pytest.raises(ValidationError) as excinfo:
        reseller_invite_by_email(actor=None, large_account_reseller=partner_beta, email="admin@alpha.example")
    assert "registered in the console as Alpha IT Services" in excinfo.value.messages[0]


def test_an_email_invitation_becomes_the_partners_invitation(partner_beta, partner_alpha):
    ResellerLink.objects.create(
        large_account_reseller=partner_beta, email="admin@alpha.example", status=ResellerStatus.UNMAPPED
    )
    with schema_context(partner_beta.schema_name):
        link = reseller_invite(actor=None, large_account_reseller=partner_beta, reseller=partner_alpha)
    assert ResellerLink.objects.get() == link
    assert link.reseller == partner_alpha and link.status == ResellerStatus.PENDING


def test_the_reseller_accepts_or_declines_and_the_lar_is_told(partner_beta, partner_alpha):
    with schema_context(partner_beta.schema_name):
        link = reseller_invite(actor=None, large_account_reseller=partner_beta, reseller=partner_alpha)
    with schema_context(partner_alpha.schema_name):
        with pytest.raises(ValidationError):  # only the invited partner answers
            reseller_invitation_accept(actor=admin_of(partner_alpha), partner=partner_beta, link=link)
        link = reseller_invitation_decline(actor=admin_of(partner_alpha), partner=partner_alpha, link=link)
        assert AuditEvent.objects.filter(action="reseller.invitation_decline").exists()
    assert link.status == ResellerStatus.DECLINED
    with schema_context(partner_beta.schema_name):
        assert Notification.objects.filter(title="Alpha IT Services declined your reseller invitation").exists()
        link = reseller_invite(actor=None, large_account_reseller=partner_beta, reseller=partner_alpha)  # again
    with schema_context(partner_alpha.schema_name):
        link = reseller_invitation_accept(actor=admin_of(partner_alpha), partner=partner_alpha, link=link)
    assert link.status == ResellerStatus.MAPPED and link.is_mapped


# --- screens --------------------------------------------------------------------------------------


def test_single_invite_screen_searches_then_invites(partner_beta, partner_alpha, beta_admin_client):
    response = beta_admin_client.get("/resellers/invite/", {"email": "admin@alpha.example"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "Found by the tenant owner's email address" in content
    assert 'data-partner="alpha"' in content
    response = beta_admin_client.post(
        "/resellers/invite/?email=admin%40alpha.example", {"partner": partner_alpha.pk, "organisation_name": ""}
    )
    assert response.status_code == 302 and response["Location"] == "/resellers/"
    assert ResellerLink.objects.get().reseller == partner_alpha
    directory = beta_admin_client.get("/resellers/").content.decode()
    assert "Alpha IT Services" in directory and "Pending acceptance" in directory


def test_single_invite_screen_offers_an_email_when_nobody_is_found(
    partner_beta, beta_admin_client, django_capture_on_commit_callbacks
):
    response = beta_admin_client.get("/resellers/invite/", {"email": "new@reseller.example", "organisation_name": "Zz"})
    assert 'data-testid="nobody-found"' in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = beta_admin_client.post(
            "/resellers/invite/email/", {"email": "new@reseller.example", "organisation_name": "Zz Reseller"}
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = ResellerLink.objects.get()
    assert (link.status, link.email, link.organisation_name) == (
        ResellerStatus.UNMAPPED,
        "new@reseller.example",
        "Zz Reseller",
    )


def test_inviting_a_lar_from_the_screen_is_refused(partner_beta, others, beta_admin_client):
    response = beta_admin_client.get("/resellers/invite/", {"email": "admin@gamma-lar.example"})
    content = response.content.decode()
    assert "Another large account reseller cannot be invited." in content
    response = beta_admin_client.post("/resellers/invite/", {"partner": others["lar"].pk}, follow=True)
    assert "Another large account reseller cannot be invited." in response.content.decode()
    assert not ResellerLink.objects.exists()


def test_the_reseller_answers_on_its_own_screen(partner_beta, partner_alpha, alpha_admin_client):
    with schema_context(partner_beta.schema_name):
        link = reseller_invite(actor=None, large_account_reseller=partner_beta, reseller=partner_alpha)
    page = alpha_admin_client.get("/resellers/my-providers/").content.decode()
    assert "Beta Distribution invites you to be its reseller" in page
    assert alpha_admin_client.get(f"/resellers/my-providers/{link.pk}/accept/").status_code == 405
    response = alpha_admin_client.post(f"/resellers/my-providers/{link.pk}/accept/")
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.status == ResellerStatus.MAPPED


def test_another_partners_invitation_is_a_404_on_the_reseller_side(partner_beta, partner_alpha, others):
    link = ResellerLink.objects.create(
        large_account_reseller=partner_beta, reseller=others["delta"], email="admin@delta-corp.example"
    )
    client = signed_in_client(partner_alpha)
    assert client.post(f"/resellers/my-providers/{link.pk}/accept/").status_code == 404
    assert client.post(f"/resellers/my-providers/{link.pk}/visibility/", {"visible": "off"}).status_code == 404
    link.refresh_from_db()
    assert link.status == ResellerStatus.PENDING and link.customers_visible
