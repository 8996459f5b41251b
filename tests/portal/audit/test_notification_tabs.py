"""The Notifications page's tabs: unread, all, and one per kind (orders, licences, pools)."""

from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from portal.audit.services import notification_create, notifications_mark_read


def test_the_tabs_show_unread_all_and_each_kind(partner_alpha, alpha_admin_client):
    with schema_context(partner_alpha.schema_name):
        administrator = get_user_model().objects.get(username="admin")
        [order] = notification_create(recipients=[administrator], title="Order 42 completed", url="/orders/42/")
        notification_create(recipients=[administrator], title="Request to approve", url="/subscriptions/requests/7/")
        notification_create(recipients=[administrator], title="Pool offered", url="/resellers/my-providers/")
        notification_create(recipients=[administrator], title="Sync failed", url="/marketplace/")
        assert order.kind == "orders"
        notifications_mark_read(user=administrator, notification_ids=[order.pk])

    def titles(tab: str) -> set[str]:
        page = alpha_admin_client.get(f"/notifications/?tab={tab}").content.decode()
        return {
            title
            for title in ("Order 42 completed", "Request to approve", "Pool offered", "Sync failed")
            if title in page
        }

    assert titles("all") == {"Order 42 completed", "Request to approve", "Pool offered", "Sync failed"}
    assert titles("unread") == {"Request to approve", "Pool offered", "Sync failed"}
    assert titles("orders") == {"Order 42 completed"}
    assert titles("licences") == {"Request to approve"}
    assert titles("pools") == {"Pool offered"}
    swapped = alpha_admin_client.get("/notifications/?tab=pools", headers={"HX-Request": "true"}).content.decode()
    assert swapped.lstrip().startswith('<div id="results" data-tab="pools">')
    # the bell still gets its panel
    panel = alpha_admin_client.get(
        "/notifications/", headers={"HX-Request": "true", "HX-Target": "notification-panel"}
    ).content.decode()
    assert 'id="notification-panel-body"' in panel
