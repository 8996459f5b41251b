import datetime

from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.accounts.choices import UserKind
from portal.accounts.models import Invitation
from portal.accounts.selectors import invitation_token_hash
from portal.audit.models import AuditEvent, Notification
from tests.portal.conftest import invitation_path_from_mail
from tests.support import host_of, second_factor_skip

User = get_user_model()
NEW_PASSWORD = "a-Long-new-passphrase-42"


def _invite(client, role, django_capture_on_commit_callbacks, **fields):
    data = {"email": "New.Person@Example.com", "kind": UserKind.PARTNER, "role": role.pk, **fields}
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/settings/users/invite/", data)


def test_invitation_is_emailed_on_commit_then_accepting_sets_the_password_and_signs_in(
    partner_alpha, alpha_admin_client, make_role, django_capture_on_commit_callbacks, mailoutbox
):
    role = make_role("Helpdesk", customers=1)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = alpha_admin_client.post(
            "/settings/users/invite/",
            {"email": "New.Person@Example.com", "first_name": "Nia", "kind": UserKind.PARTNER, "role": role.pk},
        )
        assert mailoutbox == []  # nothing leaves before the transaction commits
    assert response.status_code == 302
    for callback in callbacks:
        callback()

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["new.person@example.com"]
    assert "Alpha IT Services" in message.subject
    path = invitation_path_from_mail(message)
    assert f"http://{host_of(partner_alpha)}{path}" in message.body
    token = path.rstrip("/").rsplit("/", 1)[1]
    with schema_context(partner_alpha.schema_name):
        user = User.objects.get(email="new.person@example.com")
        assert user.username == "new.person"
        assert user.is_active and not user.has_usable_password()
        assert list(user.roles.all()) == [role]
        invitation = Invitation.objects.get(user=user)
        assert invitation.token_hash == invitation_token_hash(token) != token  # only the hash is stored
        assert invitation.expires_at > timezone.now() + datetime.timedelta(days=6)
        assert AuditEvent.objects.filter(action="user.invite", target_id=str(user.pk)).exists()
    detail = alpha_admin_client.get(response["Location"]).content.decode()
    assert "Invited" in detail and "Resend invitation" in detail

    invitee = Client(HTTP_HOST=host_of(partner_alpha))
    page = invitee.get(path)
    assert page.status_code == 200
    body = page.content.decode()
    assert "new.person@example.com" in body
    assert 'id="microsoft-sign-in"' in body and f"{path}microsoft/" in body

    accepted = invitee.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert accepted.status_code == 302
    # signed in, and led to set up a second factor (Require MFA is on) before the console
    assert invitee.get("/")["Location"] == "/accounts/sign-in/enrol/?next=%2F"
    assert "Welcome, Nia" in second_factor_skip(invitee).get("/").content.decode()
    assert (
        Client(HTTP_HOST=host_of(partner_alpha))
        .post("/accounts/sign-in/", {"username": "new.person@example.com", "password": NEW_PASSWORD})
        .status_code
        == 302
    )
    with schema_context(partner_alpha.schema_name):
        assert Invitation.objects.get(user__email="new.person@example.com").accepted_at is not None
        notification = Notification.objects.get(recipient__username="admin")
        assert notification.title == "new.person@example.com accepted your invitation"
        assert notification.url == f"/settings/users/{user.pk}/"
    # the list shows them as active now
    listing = alpha_admin_client.get("/settings/users/?status=active").content.decode()
    assert 'data-user="new.person"' in listing

    # the link is used up
    again = Client(HTTP_HOST=host_of(partner_alpha)).get(path)
    assert again.status_code == 410
    assert "already accepted" in again.content.decode()


def test_an_expired_link_shows_a_clear_page_and_sets_nothing(
    partner_alpha, alpha_admin_client, administrators_role, django_capture_on_commit_callbacks, mailoutbox
):
    _invite(alpha_admin_client, administrators_role, django_capture_on_commit_callbacks)
    path = invitation_path_from_mail(mailoutbox[0])
    with schema_context(partner_alpha.schema_name):
        Invitation.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    invitee = Client(HTTP_HOST=host_of(partner_alpha))

    page = invitee.get(path)
    posted = invitee.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert page.status_code == posted.status_code == 410
    assert "The link has expired" in page.content.decode()
    with schema_context(partner_alpha.schema_name):
        assert not User.objects.get(email="new.person@example.com").has_usable_password()
    listing = alpha_admin_client.get("/settings/users/?status=invitation_expired").content.decode()
    assert 'data-user="new.person"' in listing
    assert "Invitation expired" in listing


def test_an_unknown_link_is_refused(alpha_client):
    page = alpha_client.get("/accounts/invitation/not-a-real-token/")
    assert page.status_code == 410
    assert "The link is not valid" in page.content.decode()


def test_inviting_an_email_that_already_has_an_account_is_refused_and_saves_nothing(
    partner_alpha, alpha_admin_client, administrators_role, django_capture_on_commit_callbacks, mailoutbox
):
    with schema_context(partner_alpha.schema_name):
        users_before = User.objects.count()

    response = _invite(
        alpha_admin_client, administrators_role, django_capture_on_commit_callbacks, email="ADMIN@alpha.example"
    )

    assert response.status_code == 200
    assert "admin@alpha.example already has an account here" in response.content.decode()
    assert mailoutbox == []
    with schema_context(partner_alpha.schema_name):
        assert User.objects.count() == users_before
        assert not Invitation.objects.exists()
        assert not AuditEvent.objects.filter(action="user.invite").exists()


def test_resend_replaces_the_link_and_revoke_removes_the_invited_user(
    partner_alpha, alpha_admin_client, administrators_role, django_capture_on_commit_callbacks, mailoutbox
):
    response = _invite(alpha_admin_client, administrators_role, django_capture_on_commit_callbacks)
    detail = response["Location"]
    first_path = invitation_path_from_mail(mailoutbox[0])

    with django_capture_on_commit_callbacks(execute=True):
        resent = alpha_admin_client.post(detail + "invitation/resend/")
    assert resent.status_code == 302
    assert len(mailoutbox) == 2
    second_path = invitation_path_from_mail(mailoutbox[1])
    assert second_path != first_path
    invitee = Client(HTTP_HOST=host_of(partner_alpha))
    assert invitee.get(first_path).status_code == 410
    assert invitee.get(second_path).status_code == 200

    confirm = alpha_admin_client.get(detail + "invitation/revoke/")
    assert "Revoke the invitation of new.person@example.com?" in confirm.content.decode()
    revoked = alpha_admin_client.post(detail + "invitation/revoke/")

    assert revoked.status_code == 302 and revoked["Location"] == "/settings/users/"
    assert invitee.get(second_path).status_code == 410
    with schema_context(partner_alpha.schema_name):
        assert not User.objects.filter(email="new.person@example.com").exists()
        assert AuditEvent.objects.filter(action="user.invitation_revoke").exists()


def test_a_customer_tenant_admin_is_invited_with_customers_and_a_custom_role(
    partner_alpha,
    alpha_admin_client,
    administrators_role,
    make_role,
    customers_abc,
    django_capture_on_commit_callbacks,
    mailoutbox,
):
    tenant_role = make_role("Tenant admins", customers=1, subscriptions=2)
    base = {"email": "it@acme.example", "kind": UserKind.CUSTOMER_ADMIN}

    refused = _invite(alpha_admin_client, administrators_role, django_capture_on_commit_callbacks, **base, customers=[])
    assert refused.status_code == 200
    body = refused.content.decode()
    assert "cannot be an administrator" in body
    assert "Choose at least one customer" in body

    response = _invite(
        alpha_admin_client,
        tenant_role,
        django_capture_on_commit_callbacks,
        **base,
        customers=[customers_abc["Acme"].pk],
    )

    assert response.status_code == 302
    assert len(mailoutbox) == 1
    with schema_context(partner_alpha.schema_name):
        user = User.objects.get(email="it@acme.example")
        assert user.kind == UserKind.CUSTOMER_ADMIN
        assert [customer.name for customer in user.customers.all()] == ["Acme"]
        assert list(user.roles.all()) == [tenant_role]


def test_a_settings_viewer_cannot_invite(partner_alpha, make_user, make_role, client_of):
    viewer = make_user("viewer", roles=[make_role("Settings viewers", settings=1)])
    client = client_of(viewer)

    assert client.get("/settings/users/").status_code == 200
    assert client.get("/settings/users/invite/").status_code == 403
    assert client.post("/settings/users/invite/", {"email": "x@example.com"}).status_code == 403
