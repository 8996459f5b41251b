"""Writes through the API reach the marketplace through the screens' services, act once per
Idempotency-Key, and answer refusals as problem details."""

import datetime

import pytest
from django.utils import timezone

from api.models import ApiToken
from orders.choices import OrderLineKind, OrderStatus
from orders.models import Order
from portal.audit.models import AuditEvent
from subscriptions.models import ScheduledChange
from subscriptions.selectors_subscriptions import subscription_version
from tests.api.api_support import api_client, post, token_for

BASIC = "Microsoft 365 Business Basic"
E3 = "Microsoft 365 E3"


@pytest.fixture
def client(partner_alpha, manager, django_capture_on_commit_callbacks):
    """The manager's token (subscriptions:write); what a request queues on commit (placing) runs."""
    api = api_client(partner_alpha, token_for(partner_alpha, username="manager", scopes=["subscriptions:write"]))
    original = api.generic

    def generic(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return original(*args, **kwargs)

    api.generic = generic
    return api


def test_a_quantity_increase_is_an_order_placed_at_the_marketplace(contoso, client, manager):
    basic = contoso.subscription(BASIC)

    response = post(client, f"/api/v1/subscriptions/{basic.pk}/quantity", {"quantity": basic.quantity + 2})

    assert response.status_code == 201, response.content
    order = Order.objects.get(pk=response.json()["order"]["id"])
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert order.lines.get().kind == OrderLineKind.CHANGE_QUANTITY
    assert contoso.sim_subscription(basic).quantity == basic.quantity + 2
    assert AuditEvent.objects.filter(action="subscription.quantity_change", actor=manager).exists()


def test_the_same_idempotency_key_acts_once_and_answers_the_same(contoso, client):
    basic = contoso.subscription(BASIC)
    path = f"/api/v1/subscriptions/{basic.pk}/quantity"

    first = post(client, path, {"quantity": basic.quantity + 1}, key="retry-me")
    again = post(client, path, {"quantity": basic.quantity + 1}, key="retry-me")

    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1
    assert contoso.sim_subscription(basic).quantity == basic.quantity + 1

    other = post(client, path, {"quantity": basic.quantity + 5}, key="retry-me")
    assert other.status_code == 422 and other["Content-Type"] == "application/problem+json"
    assert other.json()["type"].endswith("/idempotency-key-reused")
    assert Order.objects.count() == 1


def test_a_post_without_an_idempotency_key_is_refused(contoso, client):
    basic = contoso.subscription(BASIC)

    response = client.post(
        f"/api/v1/subscriptions/{basic.pk}/quantity", {"quantity": 9}, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["type"].endswith("/idempotency-key-missing")
    assert not Order.objects.exists()


def test_a_decrease_the_window_refuses_is_a_problem_with_the_reason_or_is_scheduled(contoso, client):
    e3 = contoso.subscription(E3)
    path = f"/api/v1/subscriptions/{e3.pk}/quantity"

    refused = post(client, path, {"quantity": 22})

    body = refused.json()
    assert refused.status_code == 409 and body["type"].endswith("/refused")
    assert "cancellation window closed" in body["detail"] and body["instance"] == path
    assert not Order.objects.exists()

    scheduled = post(client, path, {"quantity": 20, "schedule_if_needed": True})
    assert scheduled.status_code == 201
    change = ScheduledChange.objects.get(pk=scheduled.json()["scheduled_change"]["id"])
    assert change.quantity == 20 and change.effective_on == e3.term_end


def test_a_large_increase_needs_the_confirmation_the_problem_names(contoso, client):
    basic = contoso.subscription(BASIC)
    path = f"/api/v1/subscriptions/{basic.pk}/quantity"

    asked = post(client, path, {"quantity": basic.quantity * 20})

    problem = asked.json()
    assert asked.status_code == 409 and problem["type"].endswith("/confirmation-required")
    assert problem["guardrails"] and problem["confirmation"]
    assert not Order.objects.exists()

    wrong = post(client, path, {"quantity": basic.quantity * 20, "confirm_guardrails": "not-this"})
    assert wrong.status_code == 409 and not Order.objects.exists()

    confirmed = post(client, path, {"quantity": basic.quantity * 20, "confirm_guardrails": problem["confirmation"]})
    assert confirmed.status_code == 201
    assert contoso.sim_subscription(basic).quantity == basic.quantity * 20


def test_a_stale_version_is_a_conflict(contoso, client):
    basic = contoso.subscription(BASIC)
    version = subscription_version(basic)
    post(client, f"/api/v1/subscriptions/{basic.pk}/quantity", {"quantity": basic.quantity + 1, "version": version})

    stale = post(client, f"/api/v1/subscriptions/{basic.pk}/quantity", {"quantity": 3, "version": version})

    assert stale.status_code == 409 and stale.json()["type"].endswith("/conflict")
    assert Order.objects.count() == 1


def test_invalid_input_names_the_fields(contoso, client):
    basic = contoso.subscription(BASIC)

    shape = post(client, f"/api/v1/subscriptions/{basic.pk}/quantity", {"quantity": "many"})
    rule = post(client, f"/api/v1/subscriptions/{basic.pk}/quantity", {"quantity": 0})

    assert shape.status_code == 422 and shape.json()["type"].endswith("/invalid-request")
    assert any("quantity" in field for field in shape.json()["errors"])
    assert rule.status_code == 422 and "quantity" in rule.json()["errors"]
    assert not Order.objects.exists()


def test_suspend_and_reactivate(contoso, client):
    basic = contoso.subscription(BASIC)

    suspended = post(client, f"/api/v1/subscriptions/{basic.pk}/suspend", {})
    assert suspended.status_code == 201, suspended.content
    assert contoso.sim_subscription(basic).status == "suspended"
    assert client.get(f"/api/v1/subscriptions/{basic.pk}").json()["status"] == "suspended"

    reactivated = post(client, f"/api/v1/subscriptions/{basic.pk}/reactivate", {})
    assert reactivated.status_code == 201
    assert contoso.sim_subscription(basic).status == "active"


def test_an_order_is_created_as_a_draft_then_submitted(contoso, client):
    from catalog.models import Offer

    offer = Offer.objects.filter(account=contoso.account, is_add_on=False, is_available=True).order_by("pk").first()
    created = post(
        client,
        "/api/v1/orders",
        {"customer_tenant_id": contoso.tenant.pk, "line": {"offer_id": offer.pk, "quantity": 2}, "po_number": "PO-7"},
    )
    assert created.status_code == 201, created.content
    order = created.json()
    assert order["status"] == "draft" and order["po_number"] == "PO-7" and order["lines"][0]["quantity"] == 2

    unaccepted = post(client, f"/api/v1/orders/{order['id']}/submit", {"terms_accepted": False})
    assert unaccepted.status_code == 409 and Order.objects.get(pk=order["id"]).status == OrderStatus.DRAFT

    submitted = post(client, f"/api/v1/orders/{order['id']}/submit", {"terms_accepted": True})
    assert submitted.status_code == 200, submitted.content
    assert client.get(f"/api/v1/orders/{order['id']}").json()["status"] == OrderStatus.COMPLETED


def test_a_write_needs_the_role_to_manage_not_only_the_scope(contoso, partner_alpha):
    from portal.accounts.choices import AccessLevel, PermissionModule
    from tests.factories.accounts import user_with

    user_with("viewer", {PermissionModule.SUBSCRIPTIONS: AccessLevel.VIEW})
    viewer = api_client(partner_alpha, token_for(partner_alpha, username="viewer", scopes=["subscriptions:read"]))
    basic = contoso.subscription(BASIC)
    # A token is never given more than its user's roles grant ...
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        token_for(partner_alpha, username="viewer", scopes=["subscriptions:write"])
    # ... and reads what the role lets the user see.
    assert viewer.get(f"/api/v1/subscriptions/{basic.pk}").status_code == 200


def test_the_rate_limit_counts_per_token(partner_alpha, in_alpha):
    limited = api_client(partner_alpha, token_for(partner_alpha, scopes=["customers:read"], rate_limit_per_minute=2))
    other = api_client(partner_alpha, token_for(partner_alpha, scopes=["customers:read"]))

    answers = [limited.get("/api/v1/customers").status_code for _ in range(3)]

    assert answers == [200, 200, 429]
    refused = limited.get("/api/v1/customers")
    assert refused.json()["type"].endswith("/rate-limited") and 1 <= int(refused["Retry-After"]) <= 60
    assert other.get("/api/v1/customers").status_code == 200


def test_revoked_and_expired_tokens_are_refused(partner_alpha, in_alpha):
    from api.services import api_token_revoke

    revoked_text = token_for(partner_alpha, scopes=["customers:read"])
    expired_text = token_for(partner_alpha, scopes=["customers:read"])
    revoked = ApiToken.objects.get(prefix=revoked_text.split("_")[1])
    api_token_revoke(actor=revoked.user, token=revoked)
    ApiToken.objects.filter(prefix=expired_text.split("_")[1]).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )

    for text in (revoked_text, expired_text):
        response = api_client(partner_alpha, text).get("/api/v1/customers")
        assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert AuditEvent.objects.filter(action="api_token.revoke", target_id=str(revoked.pk)).exists()


def test_a_change_made_through_the_api_is_told_to_the_partners_webhooks(contoso, client):
    import httpx

    from portal.webhooks.services import override_webhook_transport, webhook_endpoint_create
    from tests.portal.webhooks.receiver import Receiver

    receiver = Receiver()
    webhook_endpoint_create(
        actor=None, url="https://psa.example/in", description="", events=["order.completed", "subscription.changed"]
    )
    basic = contoso.subscription(BASIC)

    with override_webhook_transport(httpx.WSGITransport(app=receiver)):
        response = post(client, f"/api/v1/subscriptions/{basic.pk}/quantity", {"quantity": basic.quantity + 1})

    order_id = response.json()["order"]["id"]
    events = {request.payload["type"]: request.payload["data"] for request in receiver.received}
    assert set(events) == {"order.completed", "subscription.changed"}
    assert events["order.completed"]["order_id"] == order_id and events["order.completed"]["status"] == "completed"
    assert events["subscription.changed"]["subscription_id"] == basic.pk
    assert events["subscription.changed"]["quantity"] == basic.quantity + 1
