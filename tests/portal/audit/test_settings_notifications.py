from django.test import Client
from django_tenants.utils import schema_context

from portal.audit.models import Notification
from portal.audit.services import notification_create
from tests.support import host_of


def _notify(partner, user, *titles, url="/settings/users/"):
    with schema_context(partner.schema_name):
        return [notification_create(recipients=[user], title=title, url=url)[0] for title in titles]


def test_the_bell_shows_the_unread_count(partner_alpha, alpha_admin_client, alpha_admin):
    quiet = alpha_admin_client.get("/").content.decode()
    assert 'id="notification-badge"' in quiet and "d-none" in quiet.split('id="notification-badge"')[1][:200]

    _notify(partner_alpha, alpha_admin, "First", "Second")
    body = alpha_admin_client.get("/").content.decode()

    badge = body.split('id="notification-badge"')[1][:300]
    assert "d-none" not in badge.split(">")[0]
    assert ">2<" in badge
    assert 'hx-get="/notifications/"' in body


def test_the_panel_lists_the_latest_and_marks_all_read(partner_alpha, alpha_admin_client, alpha_admin, make_user):
    _notify(partner_alpha, alpha_admin, "Invitation accepted", "Sync failed")
    _notify(partner_alpha, make_user("someone"), "Not yours")

    panel = alpha_admin_client.get("/notifications/", HTTP_HX_REQUEST="true")
    body = panel.content.decode()

    assert panel.status_code == 200
    assert "<html" not in body
    assert "Invitation accepted" in body and "Sync failed" in body and "Not yours" not in body
    assert "Mark all read" in body

    marked = alpha_admin_client.post("/notifications/mark-read/", HTTP_HX_REQUEST="true")
    marked_body = marked.content.decode()
    assert "Mark all read" not in marked_body
    assert 'id="notification-badge"' in marked_body and 'hx-swap-oob="true"' in marked_body
    with schema_context(partner_alpha.schema_name):
        assert not Notification.objects.filter(recipient=alpha_admin, read_at__isnull=True).exists()
        assert Notification.objects.filter(title="Not yours", read_at__isnull=True).exists()

    page = alpha_admin_client.get("/notifications/")
    assert "<html" in page.content.decode() and "Invitation accepted" in page.content.decode()


def test_opening_a_notification_marks_it_read_and_follows_its_link(
    partner_alpha, alpha_admin_client, alpha_admin, make_user
):
    mine, external = _notify(partner_alpha, alpha_admin, "Mine", "External")
    with schema_context(partner_alpha.schema_name):
        Notification.objects.filter(pk=external.pk).update(url="https://evil.example/")
    [theirs] = _notify(partner_alpha, make_user("someone"), "Theirs")

    opened = alpha_admin_client.get(f"/notifications/{mine.pk}/open/")
    assert opened.status_code == 302 and opened["Location"] == "/settings/users/"
    assert alpha_admin_client.get(f"/notifications/{external.pk}/open/")["Location"] == "/notifications/"
    # another user's notification does not exist for you
    assert alpha_admin_client.get(f"/notifications/{theirs.pk}/open/").status_code == 404
    with schema_context(partner_alpha.schema_name):
        assert Notification.objects.get(pk=mine.pk).read_at is not None
        assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_notifications_need_a_signed_in_user(partner_alpha):
    anonymous = Client(HTTP_HOST=host_of(partner_alpha))
    assert anonymous.get("/notifications/")["Location"].startswith("/accounts/sign-in/")
    assert anonymous.post("/notifications/mark-read/")["Location"].startswith("/accounts/sign-in/")
