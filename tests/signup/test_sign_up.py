"""Partner sign-up on the public host, end to end: the form, the verification email, the background
provisioning with its progress page, signing in; and a reseller invited by email signing up from
the invitation's link."""

import re

import pytest
from django.core import mail
from django.test import Client
from django_tenants.utils import schema_context

from portal.audit.choices import AuditAction
from portal.audit.models import AuditEvent, Notification
from portal.partners.models import Partner
from resellers.choices import ResellerStatus
from resellers.services import reseller_invite_by_email
from signup.choices import SignUpStatus
from signup.models import PartnerSignUp
from tests.support import PASSWORD, host_of

PUBLIC_HOST = "console.test"
LINK = re.compile(r"https?://\S+")


def _form(**overrides):
    data = {
        "organisation_name": "Gamma Cloud Services",
        "slug": "gamma",
        "country": "JP",
        "is_service_provider": "on",
        "first_name": "Gina",
        "last_name": "Gamma",
        "admin_email": "gina@gamma.example",
        "password": PASSWORD,
        "password_again": PASSWORD,
        "terms": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def public():
    return Client(HTTP_HOST=PUBLIC_HOST)


def test_the_landing_page_offers_sign_up_and_the_form_names_the_data_centre(db, public):
    assert 'data-testid="sign-up-link"' in public.get("/").content.decode()
    page = public.get("/sign-up/")
    assert page.status_code == 200
    swapped = public.get("/sign-up/data-centre/?country=JP", headers={"HX-Request": "true"}).content.decode()
    assert "Japan (Tokyo)" in swapped and "<html" not in swapped
    assert "West Europe (Amsterdam)" in public.get("/sign-up/data-centre/?country=AT").content.decode()
    assert "Switzerland (Zurich)" in public.get("/sign-up/data-centre/?country=CH").content.decode()


def test_sign_up_end_to_end_through_the_background_provisioning(db, public, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = public.post("/sign-up/", _form())
    assert response.status_code == 302
    progress_url = response["Location"]
    sign_up = PartnerSignUp.objects.get(slug="gamma")
    assert sign_up.status == SignUpStatus.AWAITING_VERIFICATION
    assert sign_up.data_centre == "jp-east" and sign_up.password_hash != PASSWORD
    assert not Partner.objects.filter(slug="gamma").exists()
    assert 'data-testid="sign-up-check-email"' in public.get(progress_url).content.decode()

    [email] = mail.outbox
    assert email.to == ["gina@gamma.example"]
    [verify_url] = LINK.findall(email.body)
    assert verify_url.startswith("http") and "/sign-up/verify/" in verify_url
    with django_capture_on_commit_callbacks(execute=True):
        response = public.get(verify_url.split(PUBLIC_HOST, 1)[1].lstrip(":0123456789"))
    assert response["Location"] == progress_url

    sign_up.refresh_from_db()
    assert sign_up.status == SignUpStatus.READY and sign_up.step == "ready"
    partner = Partner.objects.get(slug="gamma")
    assert (partner.name, partner.country, partner.data_centre, partner.region) == (
        "Gamma Cloud Services",
        "JP",
        "jp-east",
        "jp",
    )
    assert sign_up.partner == partner
    page = public.get(progress_url).content.decode()
    assert 'data-status="ready"' in page and f"http://{host_of(partner)}" in page
    swapped = public.get(progress_url, headers={"HX-Request": "true"}).content.decode()
    assert swapped.lstrip().startswith('<div id="progress"')

    # the administrator signs in with the password chosen at sign-up
    client = Client(HTTP_HOST=host_of(partner))
    assert (
        client.post("/accounts/sign-in/", {"username": "gina@gamma.example", "password": PASSWORD}).status_code == 302
    )
    with schema_context(partner.schema_name):
        event = AuditEvent.objects.get(action=AuditAction.PARTNER_SIGN_UP)
        assert event.after["data_centre"] == "jp-east" and event.after["terms_accepted_at"]

    # a second click on the link changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        public.get(verify_url.split(PUBLIC_HOST, 1)[1].lstrip(":0123456789"))
    assert Partner.objects.filter(slug="gamma").count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"organisation_name": "Alpha IT Services", "slug": "alpha-two"}, "organisation_name", "already"),
        ({"organisation_name": "ALPHA it services", "slug": "alpha-three"}, "organisation_name", "already"),
        ({"slug": "alpha"}, "slug", "already exists"),
        ({"slug": "admin"}, "slug", "reserved"),
        ({"terms": None}, "terms", "Accept the terms"),
        ({"is_service_provider": None}, "is_service_provider", "or both"),
        ({"password_again": "something-else-42"}, "password_again", "differ"),
    ],
)
def test_a_refused_sign_up_says_why_on_the_field(db, public, overrides, field, message):
    response = public.post("/sign-up/", _form(**overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert message in " ".join(errors.get(field, [])), errors
    assert not PartnerSignUp.objects.exists()


def test_an_open_sign_up_holds_its_address_and_name(db, public, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        public.post("/sign-up/", _form())
    response = public.post("/sign-up/", _form(organisation_name="Other Org", admin_email="o@other.example"))
    assert "being set up" in " ".join(response.context["form"].errors["slug"])
    response = public.post("/sign-up/", _form(slug="gamma-2", admin_email="o@other.example"))
    assert "already" in " ".join(response.context["form"].errors["organisation_name"])


def test_a_wrong_verification_link_is_refused(db, public):
    response = public.get("/sign-up/verify/not-a-token/")
    assert response.status_code == 404
    assert not Partner.objects.filter(slug="gamma").exists()


def test_an_invited_reseller_signs_up_from_the_invitation_link(
    db, public, partner_beta, django_capture_on_commit_callbacks
):
    with schema_context(partner_beta.schema_name), django_capture_on_commit_callbacks(execute=True):
        link = reseller_invite_by_email(
            actor="beta admin", large_account_reseller=partner_beta, email="owner@delta.example",
            organisation_name="Delta Reselling",
        )  # fmt: skip
    [invitation_email] = mail.outbox
    [sign_up_url] = [url for url in LINK.findall(invitation_email.body) if "/sign-up/" in url]
    path = sign_up_url.split(PUBLIC_HOST, 1)[1].lstrip(":0123456789")
    page = public.get(path)
    assert page.status_code == 200
    form = page.context["form"]
    assert form["admin_email"].value() == "owner@delta.example"
    assert form["organisation_name"].value() == "Delta Reselling"
    assert 'data-testid="sign-up-invitation"' in page.content.decode()

    data = _form(
        organisation_name="Delta Reselling",
        slug="delta",
        country="DE",
        admin_email="owner@delta.example",
        invitation=form["invitation"].value(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = public.post("/sign-up/", data)
    assert response.status_code == 302
    # the invitation was sent to this address: no second verification, provisioning started at once
    assert len(mail.outbox) == 1
    sign_up = PartnerSignUp.objects.get(slug="delta")
    assert sign_up.status == SignUpStatus.READY and sign_up.data_centre == "eu-west"
    link.refresh_from_db()
    assert link.status == ResellerStatus.MAPPED and link.reseller == sign_up.partner
    with schema_context(partner_beta.schema_name):
        assert Notification.objects.filter(title__contains="Delta Reselling signed up").exists()
    with schema_context(sign_up.partner.schema_name):
        assert AuditEvent.objects.filter(action=AuditAction.RESELLER_INVITATION_SIGN_UP).exists()

    # the link is used: opening it again says so
    assert public.get(path).status_code == 404


def test_a_forged_invitation_token_is_refused(db, public):
    assert public.get("/sign-up/?invitation=forged").status_code == 404
