"""Help > Submit feedback, Settings > Feedback management, and the troubleshooting profile."""

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from customers.models import Customer
from portal.accounts.choices import UserKind
from portal.audit.choices import AuditAction
from portal.audit.models import AuditEvent, Notification
from support.models import Feedback, TroubleshootingAddress
from tests.factories import UserFactory
from tests.support import PASSWORD, signed_in_client


@pytest.fixture
def customer_admin(partner_alpha):
    with schema_context(partner_alpha.schema_name):
        customer = Customer.objects.create(name="Contoso Ltd", country="DE")
        user = UserFactory(
            username="contoso-admin", email="it@contoso.example", kind=UserKind.CUSTOMER_ADMIN,
            first_name="Carla", last_name="Contoso",
        )  # fmt: skip
        user.customers.add(customer)
    return user


def test_feedback_from_a_customer_tenant_admin_reaches_the_partner(
    partner_alpha, customer_admin, alpha_admin_client, django_capture_on_commit_callbacks
):
    client = signed_in_client(partner_alpha, username="contoso-admin", password=PASSWORD)
    page = client.get("/").content.decode()
    assert 'href="/help/feedback/"' in page
    response = client.post(
        "/help/feedback/", {"category": "problem", "subject": "Export is slow", "message": "It takes a minute."}
    )
    assert response.status_code == 302
    mine = client.get("/help/feedback/").content.decode()
    assert "Export is slow" in mine
    # the tenant admin cannot manage feedback
    assert client.get("/settings/feedback/").status_code == 403

    with schema_context(partner_alpha.schema_name):
        feedback = Feedback.objects.get()
        assert (feedback.customer.name, feedback.author_label, feedback.author_kind) == (
            "Contoso Ltd",
            "Carla Contoso",
            UserKind.CUSTOMER_ADMIN,
        )
        notification = Notification.objects.get(recipient__username="admin")
        assert "Carla Contoso" in notification.title and "Contoso Ltd" in notification.title
        assert AuditEvent.objects.filter(action=AuditAction.FEEDBACK_SUBMIT).exists()
        TroubleshootingAddress.objects.create(email="support-loop@alpha.example")

    listing = alpha_admin_client.get("/settings/feedback/?status=new").content.decode()
    assert "Export is slow" in listing and "Contoso Ltd" in listing
    assert "Export is slow" not in alpha_admin_client.get("/settings/feedback/?status=closed").content.decode()
    swapped = alpha_admin_client.get("/settings/feedback/?q=export", headers={"HX-Request": "true"}).content.decode()
    assert swapped.lstrip().startswith('<div id="results">') and "Export is slow" in swapped
    export = b"".join(alpha_admin_client.get("/settings/feedback/export.csv").streaming_content).decode()
    assert "Export is slow" in export and "Contoso Ltd" in export

    with django_capture_on_commit_callbacks(execute=True):
        response = alpha_admin_client.post(
            f"/settings/feedback/{feedback.pk}/", {"message": "Fixed in tonight's release."}
        )
    assert response.status_code == 302
    [email] = mail.outbox
    assert email.to == ["it@contoso.example"] and email.cc == ["support-loop@alpha.example"]
    assert "Fixed in tonight's release." in email.body
    alpha_admin_client.post(f"/settings/feedback/{feedback.pk}/", {"status": "resolved"})
    with schema_context(partner_alpha.schema_name):
        feedback.refresh_from_db()
        assert feedback.status == "resolved"
        assert AuditEvent.objects.filter(action=AuditAction.FEEDBACK_REPLY).exists()
    assert "Fixed in tonight" in client.get("/help/feedback/").content.decode()


def test_feedback_without_a_subject_is_refused_on_the_field(partner_alpha, alpha_admin_client):
    response = alpha_admin_client.post("/help/feedback/", {"category": "idea", "subject": "", "message": "x"})
    assert response.status_code == 200
    assert "subject" in response.context["form"].errors
    with schema_context(partner_alpha.schema_name):
        assert not Feedback.objects.exists()


def test_the_troubleshooting_profile_adds_and_removes_addresses(partner_alpha, alpha_admin_client):
    response = alpha_admin_client.post("/settings/troubleshooting/", {"email": "Loop@Alpha.example"})
    assert response.status_code == 302
    page = alpha_admin_client.get("/settings/troubleshooting/").content.decode()
    assert "loop@alpha.example" in page
    again = alpha_admin_client.post("/settings/troubleshooting/", {"email": "loop@alpha.example"})
    assert "already in the profile" in again.content.decode()
    with schema_context(partner_alpha.schema_name):
        address = TroubleshootingAddress.objects.get()
    assert (
        "Remove loop@alpha.example?"
        in alpha_admin_client.get(f"/settings/troubleshooting/{address.pk}/remove/").content.decode()
    )
    alpha_admin_client.post(f"/settings/troubleshooting/{address.pk}/remove/")
    with schema_context(partner_alpha.schema_name):
        assert not TroubleshootingAddress.objects.exists()
        assert AuditEvent.objects.filter(action=AuditAction.TROUBLESHOOTING_ADDRESS_REMOVE).exists()
