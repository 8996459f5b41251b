"""Every URL of the partner console, walked as four kinds of visitor.

The URL list comes from the URLconf itself, so a view added later is walked without editing this
test. A view that forgets its check fails here:
- anonymous: redirected to sign-in (except the few public pages listed below);
- another partner's administrator, carrying their own session cookie: the same as anonymous;
- a customer tenant admin bound to another customer: exactly 404 for objects of this customer and
  for any object of a module they lack (a 403 would confirm the id exists), 403 for the pages of
  partner settings, never a 200 on someone else's object;
- the partner's administrator: the page works.

URLs with arguments take them from OBJECT_ARGUMENTS (by URL name, else by namespace): a new URL
with an argument this test cannot fill fails with a message saying what to add.
"""

from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django_tenants.utils import schema_context

from portal.accounts.choices import AccessLevel, PermissionModule, UserKind
from portal.accounts.models import Role
from tests.factories import UserFactory
from tests.support import PASSWORD, host_of, signed_in_client

# Pages anyone may open on a partner host.
PUBLIC_URL_NAMES = {
    "healthz",
    "readyz",
    "accounts:login",
    "accounts:logout",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",
    "accounts:password_reset_complete",
    "accounts:invitation_accept",
    "accounts:invitation_microsoft",  # accepting an invitation with Microsoft: the link is the proof
    "accounts:invitation_microsoft_complete",
    "microsoft:sign_in_start",
    "microsoft:sign_in_complete",
    "catalog:public_index",
    "catalog:public_group",
    "catalog:public_offer",
    "core:language_switch",  # the switcher on the sign-in page and the public catalog
    "accounts:unlock",  # the emailed unlock link: its signed token is the authorisation
    # customer self-registration: open to anyone where the partner allows it, 404 otherwise
    "customer_registration:register",
    "customer_registration:sent",
    "customer_registration:verify",
}
# Every signed-in user's own flows: without a flow started, they go back to the user's own page.
OWN_FLOW_URL_NAMES = {"accounts:microsoft_link_complete"}
# Second-factor pages that send a session with nothing left to do elsewhere (already verified, no codes to show).
REDIRECT_WHEN_DONE = {"accounts:second_factor_verify", "accounts:recovery_codes_show"}
# Namespaces that are partner settings: a customer tenant admin gets 403 there.
SETTINGS_NAMESPACES = {"settings", "microsoft", "registration_settings"}
# Arguments that are not object ids.
PLAIN_ARGUMENTS = {
    "section": "customers",
    "uidb64": "MQ",
    "token": "set-password",
    "marketplace": "also",
    "field": "display_name",
    "decision": "approve",
}


@dataclass
class World:
    """Objects of partner alpha that belong to a customer the customer tenant admin may not see."""

    objects: dict[str, object]


def _walk(resolver: URLResolver, prefix: str = "", namespace: str | None = None):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            child_namespace = pattern.namespace or namespace
            if namespace and pattern.namespace:
                child_namespace = f"{namespace}:{pattern.namespace}"
            yield from _walk(pattern, prefix + str(pattern.pattern), child_namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield name, prefix + str(pattern.pattern), list(pattern.pattern.converters)


# The REST API's documentation pages are signed-in pages like any other; its operations take a bearer
# token instead of a session and are walked by the API part of the matrix below. Its root names no page.
API_SESSION_PAGES = {"api:openapi-view", "api:openapi-json"}


def _api_operation(name: str) -> bool:
    return name.startswith("api:") and name not in API_SESSION_PAGES


def console_urls() -> list[tuple[str, str, list[str]]]:
    seen = {}
    for name, route, arguments in _walk(get_resolver("portal.urls")):
        if _api_operation(name):
            continue
        seen.setdefault((name, tuple(arguments)), (name, route, arguments))
    return sorted(seen.values())


def object_arguments(world: World, name: str, arguments: list[str]) -> dict[str, object]:
    namespace = name.split(":")[0] if ":" in name else ""
    values = {}
    for argument in arguments:
        if argument in PLAIN_ARGUMENTS:
            values[argument] = PLAIN_ARGUMENTS[argument]
            continue
        for key in (f"{name}.{argument}", f"{namespace}.{argument}", argument):
            if key in world.objects:
                values[argument] = world.objects[key]
                break
        else:
            pytest.fail(
                f"The access matrix cannot fill argument {argument!r} of URL {name!r}: add an object of another "
                f"customer for '{name}.{argument}' or '{namespace}.{argument}' to the world fixture."
            )
    return values


@pytest.fixture
def world(partner_alpha) -> World:
    from customers.models import Customer, CustomerTenant

    with schema_context(partner_alpha.schema_name):
        theirs = Customer.objects.create(name="Out Of Scope Ltd", country="DE")
        ours = Customer.objects.create(name="In Scope GmbH", country="DE")
        tenant = CustomerTenant.objects.create(
            customer=theirs,
            tenant_id="0f0e0d0c-0b0a-4908-8706-050403020100",
            primary_domain="outofscope.onmicrosoft.com",
        )
        role = Role.objects.create(
            name="Tenant admin",
            permissions={
                PermissionModule.CUSTOMERS: AccessLevel.MANAGE,
                PermissionModule.SUBSCRIPTIONS: AccessLevel.MANAGE,
            },
        )
        customer_admin = UserFactory(
            username="tenantadmin", email="tenantadmin@inscope.example", kind=UserKind.CUSTOMER_ADMIN
        )
        customer_admin.roles.add(role)
        customer_admin.customers.add(ours)
    objects: dict[str, object] = {
        "customers.pk": theirs.pk,
        "customer_add_service.customer_pk": theirs.pk,
        "customers.customer_pk": theirs.pk,
        "customers.customer_id": theirs.pk,
        "customers.tenant_pk": tenant.pk,
        "customers.tenant_id": tenant.pk,
        "marketplace.tenant_pk": tenant.pk,
        **_marketplace_objects(partner_alpha, tenant),
        **_reseller_objects(partner_alpha, customer=theirs),
        **_settings_objects(partner_alpha, customer_admin=customer_admin, role=role, customer=theirs),
        **_catalog_objects(partner_alpha, tenant=tenant, customer=theirs),
        **_lifecycle_objects(partner_alpha, tenant=tenant),
        **_order_objects(partner_alpha, tenant=tenant),
        **_report_objects(partner_alpha, tenant=tenant),
        **_invoice_objects(partner_alpha, customer=theirs),
        "marketplace.customer_pk": theirs.pk,
        **_second_factor_objects(partner_alpha),
        **_api_objects(partner_alpha, customer=theirs),
    }
    return World(objects=objects)


def _second_factor_objects(partner) -> dict[str, object]:
    """The administrator's own authenticator app and passkey: anyone else gets a 404 for them."""
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from portal.authentication.models import Passkey

    with schema_context(partner.schema_name):
        administrator = get_user_model().objects.get(username="admin")
        device = TOTPDevice.objects.create(user=administrator, name="Phone", confirmed=True)
        TOTPDevice.objects.create(user=administrator, name="Being set up", confirmed=False)
        passkey = Passkey.objects.create(user=administrator, name="Key", credential_id=b"key", public_key=b"public")
    return {"accounts:totp_remove.pk": device.pk, "accounts:passkey_remove.pk": passkey.pk}


def _api_objects(partner, *, customer) -> dict[str, object]:
    """An API token of the administrator (Settings > API tokens), an issued statement of the
    out-of-scope customer (the API serves statements; the screens read them by cycle), and a webhook
    endpoint with a failed delivery (Settings > Webhooks)."""
    import datetime

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from api.services import api_token_create
    from reports.models import BillingCycleClose, BillingStatement

    with schema_context(partner.schema_name):
        administrator = get_user_model().objects.get(username="admin")
        token = api_token_create(
            actor=administrator,
            name="Matrix",
            scopes=["customers:read"],
            expires_at=timezone.now() + datetime.timedelta(days=5),
        ).token
        start = datetime.date(2026, 1, 16)
        close = BillingCycleClose.objects.create(
            cycle_start=start, cycle_end=datetime.date(2026, 2, 15), issued_at=timezone.now()
        )
        statement = BillingStatement.objects.create(
            close=close,
            customer=customer,
            customer_name=customer.name,
            cycle_start=close.cycle_start,
            cycle_end=close.cycle_end,
            currency="EUR",
            issued_at=close.issued_at,
            total="10.00",
        )
        from portal.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

        endpoint = WebhookEndpoint.objects.create(
            url="https://psa.example/hooks", events=["order.completed"], secret="x"
        )
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, event=WebhookEvent.objects.create(type="order.completed"), status="failed"
        )
    return {
        "settings:api_token_revoke.pk": token.pk,
        "api.statement_id": statement.pk,
        "settings:webhook_detail.pk": endpoint.pk,
        "settings:webhook_ping.pk": endpoint.pk,
        "settings:webhook_edit.pk": endpoint.pk,
        "settings:webhook_delete.pk": endpoint.pk,
        "settings:webhook_redeliver.pk": endpoint.pk,
        "settings.delivery_pk": delivery.pk,
    }


def _settings_objects(partner, *, customer_admin, role, customer) -> dict[str, object]:
    """Settings: a user (a customer tenant admin, so their customers page exists), their role, a
    customer group, and a notification of the administrator (anyone else's is a 404 for them)."""
    from django.contrib.auth import get_user_model

    from customers.models import CustomerGroup
    from portal.audit.services import notification_create
    from portal.authentication.models import TrustedDirectory
    from support.models import Feedback, TroubleshootingAddress

    with schema_context(partner.schema_name):
        group = CustomerGroup.objects.create(name="Out of scope group")
        group.customers.add(customer)
        administrator = get_user_model().objects.get(username="admin")
        [notification] = notification_create(recipients=[administrator], title="For the administrator", url="/")
        directory = TrustedDirectory.objects.create(tid="0f0e0d0c-0b0a-4908-8706-0504030201ff", name="matrix")
        feedback = Feedback.objects.create(
            author_label="Out of scope", author_kind="customer_admin", customer=customer,
            category="idea", subject="Matrix", message="Matrix feedback",
        )  # fmt: skip
        address = TroubleshootingAddress.objects.create(email="matrix@alpha.example")
        from customers.models import CustomerRegistration

        registration = CustomerRegistration.objects.create(
            company_name="Matrix Registrant", first_name="M", last_name="R", email="m@registrant.example",
            country="DE", status="pending_approval",
        )  # fmt: skip
    return {
        "registration_settings.pk": registration.pk,
        "settings:feedback_detail.pk": feedback.pk,
        "settings:troubleshooting_remove.pk": address.pk,
        "microsoft:trusted_directory_remove.pk": directory.pk,
        "settings.pk": customer_admin.pk,
        "settings.role_pk": role.pk,
        "settings:role_edit.pk": role.pk,
        "settings:role_delete.pk": role.pk,
        "settings:role_user_add.pk": role.pk,
        "settings:customer_group_edit.pk": group.pk,
        "settings:customer_group_delete.pk": group.pk,
        "audit.pk": notification.pk,
    }


def _report_objects(partner, *, tenant) -> dict[str, object]:
    """The out-of-scope tenant's subscription as the reports track it, and a saved report of the administrator."""
    import datetime

    from django.contrib.auth import get_user_model

    from marketplace.models import MarketplaceAccount
    from reports.models import SavedReport, TrackedSubscription

    with schema_context(partner.schema_name):
        account = MarketplaceAccount.objects.create(
            marketplace="also", display_name="Matrix reports", region="at", username="r", secret_ciphertext="x"
        )
        tracked = TrackedSubscription.objects.create(
            account=account,
            external_id="matrix-subscription",
            customer=tenant.customer,
            customer_tenant=tenant,
            offer_external_id="matrix-offer",
            product_id="matrix-product",
            name="Matrix plan",
            billing_cycle="monthly",
            first_seen=datetime.date.today(),
            last_seen=datetime.date.today(),
        )
        administrator = get_user_model().objects.get(username="admin")
        saved = SavedReport.objects.create(owner=administrator, name="Matrix", dimension="customer", measure="seats")
    return {
        "reports:usage_detail.pk": tracked.pk,
        "reports:custom_delete.pk": saved.pk,
        "reports:storage_customer.pk": tenant.customer_id,
    }


def _invoice_objects(partner, *, customer) -> dict[str, object]:
    """A fetched marketplace invoice (the partner's costs) and a statement issued to the out-of-scope customer."""
    import datetime

    from django.utils import timezone

    from marketplace.models import MarketplaceAccount
    from reports.models import BillingCycleClose, BillingStatement, InvoiceImport, InvoiceLine

    with schema_context(partner.schema_name):
        account = MarketplaceAccount.objects.create(
            marketplace="also", display_name="Matrix invoices", region="ch", username="i", secret_ciphertext="x"
        )
        start, end = datetime.date(2024, 1, 1), datetime.date(2024, 1, 31)
        fetched = InvoiceImport.objects.create(
            account=account,
            period_start=start,
            period_end=end,
            status="succeeded",
            line_count=1,
            fetched_at=timezone.now(),
        )
        InvoiceLine.objects.create(
            invoice_import=fetched, invoice_id="MATRIX-INV", customer_external_id="1", name="Matrix",
            charge_type="cycle_fee", charge_start=start, charge_end=end, quantity=1, unit_price=1, amount=1,
            currency="EUR",
        )  # fmt: skip
        close = BillingCycleClose.objects.create(cycle_start=start, cycle_end=end, issued_at=timezone.now())
        statement = BillingStatement.objects.create(
            close=close, customer=customer, customer_name=customer.name, cycle_start=start, cycle_end=end,
            currency="EUR", issued_at=timezone.now(), total=1,
        )  # fmt: skip
    return {"invoices.import_pk": fetched.pk, "invoices.invoice_id": "MATRIX-INV", "invoices.pk": statement.pk}


def _marketplace_objects(partner, tenant) -> dict[str, object]:
    """An ALSO account, and the out-of-scope tenant in the ALSO module connected through it."""
    from marketplace.models import MarketplaceAccount, TenantConnection
    from marketplace.secrets import secret_encrypt

    with schema_context(partner.schema_name):
        account = MarketplaceAccount.objects.create(
            marketplace="also", display_name="ALSO", region="de", username="u", secret_ciphertext=secret_encrypt("p")
        )
        connection = TenantConnection.objects.create(
            marketplace="also", customer_tenant=tenant, account=account, external_customer_id="100002"
        )
    return {"marketplace.account_pk": account.pk, "marketplace.connection_pk": connection.pk}


def _catalog_objects(partner, *, tenant, customer) -> dict[str, object]:
    """An offer the out-of-scope tenant may buy (at the account it is connected through), its catalog
    structure, a segment with that customer and a price, and the customer's own price."""
    from catalog.models import (
        Category,
        CustomerPrice,
        CustomerSegment,
        Offer,
        ProductGroup,
        SegmentMembership,
        SegmentPrice,
    )
    from marketplace.models import MarketplaceAccount, TenantConnection

    with schema_context(partner.schema_name):
        connection = TenantConnection.objects.filter(customer_tenant=tenant, account__isnull=False).first()
        if connection is None:
            account = MarketplaceAccount.objects.create(
                marketplace="alef", display_name="Matrix ALEF", region="ro", username="m", secret_ciphertext="x"
            )
            connection = TenantConnection.objects.create(
                marketplace="alef", customer_tenant=tenant, account=account, external_customer_id="matrix"
            )
        category = Category.objects.create(name="Matrix category", slug="matrix-category")
        group = ProductGroup.objects.create(name="Matrix group", slug="matrix-group", category=category)
        offer = Offer.objects.create(
            account_id=connection.account_id,
            external_id="MATRIX-1",
            product_id="MATRIX",
            name="Matrix offer",
            billing_cycle="monthly",
            charge_type="recurring",
            currency="EUR",
            cost_price="10.00",
            product_group=group,
        )
        segment = CustomerSegment.objects.create(name="Matrix segment")
        membership = SegmentMembership.objects.create(segment=segment, customer=customer)
        segment_price = SegmentPrice.objects.create(segment=segment, offer=offer, markup_percent="3")
        customer_price = CustomerPrice.objects.create(customer=customer, offer=offer, price="11.00")
    return {
        "catalog:offer_detail.pk": offer.pk,
        "catalog:offer_customize.pk": offer.pk,
        "catalog:category_edit.pk": category.pk,
        "catalog:category_delete.pk": category.pk,
        "catalog:group_edit.pk": group.pk,
        "catalog.pk": segment.pk,  # segments/<pk>/...
        "catalog.member_pk": membership.pk,
        "catalog.price_pk": segment_price.pk,
        "catalog:customer_price_edit.pk": customer_price.pk,
        "catalog:customer_price_delete.pk": customer_price.pk,
        "catalog.tenant_pk": tenant.pk,
        "catalog.offer_pk": offer.pk,
    }


def _lifecycle_objects(partner, *, tenant) -> dict[str, object]:
    """Subscriptions: a subscription of the out-of-scope tenant with an add-on, a decrease
    scheduled for its renewal, a licence change request, and a user of the tenant."""
    import datetime

    from subscriptions.models import LicenseChangeRequest, ScheduledChange, Subscription, TenantUser

    with schema_context(partner.schema_name):
        connection = tenant.marketplace_connections.filter(account__isnull=False).first()
        subscription = Subscription.objects.create(
            customer_tenant=tenant,
            account_id=connection.account_id,
            external_id="matrix-subscription",
            offer_external_id="MATRIX-1",
            product_id="MATRIX",
            name="Matrix subscription",
            quantity=5,
            status="active",
            billing_cycle="monthly",
            term="P1Y",
            term_end=datetime.date.today() + datetime.timedelta(days=100),
            add_ons=[{"external_id": "matrix-add-on", "offer_id": "A", "product_id": "A", "name": "Add-on",
                      "quantity": 1, "status": "active"}],
        )  # fmt: skip
        scheduled = ScheduledChange.objects.create(
            subscription=subscription, quantity=3, quantity_when_scheduled=5, effective_on=subscription.term_end
        )
        request = LicenseChangeRequest.objects.create(
            customer_tenant=tenant,
            kind="change_quantity",
            subscription=subscription,
            product_name=subscription.name,
            current_quantity=5,
            requested_quantity=7,
        )
        user = TenantUser.objects.create(
            customer_tenant=tenant, account_id=connection.account_id, external_id="matrix-user", user_name="m@x.test"
        )
    return {
        "subscriptions.pk": subscription.pk,
        "subscriptions.action": "suspend",
        "subscriptions.add_on": "matrix-add-on",
        "subscriptions:scheduled_change_cancel.pk": scheduled.pk,
        "subscriptions:request_detail.pk": request.pk,
        "subscriptions:request_decide.pk": request.pk,
        "subscriptions.tenant_pk": tenant.pk,
        "subscriptions:tenant_user_detail.pk": user.pk,
    }


def _order_objects(partner, *, tenant) -> dict[str, object]:
    """Orders: a cart of the out-of-scope tenant with a line, and a quote for that tenant."""
    import datetime

    from orders.models import Order, OrderLine, Quote

    with schema_context(partner.schema_name):
        connections = tenant.marketplace_connections.filter(account__isnull=False)
        account_id = connections.values_list("account_id", flat=True)[0]
        cart = Order.objects.create(customer_tenant=tenant, account_id=account_id, number="MATRIX-ORDER")
        line = OrderLine.objects.create(order=cart, kind="new_subscription", offer_name="Matrix", quantity=1)
        quoted = Order.objects.create(customer_tenant=tenant, account_id=account_id, number="MATRIX-QUOTED")
        quote = Quote.objects.create(order=quoted, number="MATRIX-QUOTE", valid_until=datetime.date.today())
    return {"orders.order_pk": cart.pk, "orders.line_pk": line.pk, "orders.quote_pk": quote.pk}


def _reseller_objects(partner, *, customer) -> dict[str, object]:
    """beta (a large account reseller) made alpha its reseller and gave it a pool, which the
    out-of-scope customer holds seats of: the reseller-side screens open on real objects."""
    import datetime

    from pool_assignments.models import PoolAssignment
    from pools.models import Pool, PoolAllocation
    from portal.partners.models import Partner
    from resellers.models import ResellerLink

    lar = Partner.objects.get(slug="beta")
    link = ResellerLink.objects.create(large_account_reseller=lar, reseller=partner, status="mapped")
    until = datetime.date.today() + datetime.timedelta(days=90)
    pool = Pool.objects.create(
        owner=lar, name="Matrix pool", service="insights", seats=10, starts_on=datetime.date.today(), expires_on=until
    )
    allocation = PoolAllocation.objects.create(
        pool=pool, reseller=partner, payment_type="prepaid", seats=5, expires_on=until, status="accepted"
    )
    with schema_context(partner.schema_name):
        assignment = PoolAssignment.objects.create(
            allocation=allocation,
            customer=customer,
            service="insights",
            license_type="prepaid",
            seats=1,
            first_assigned_on=datetime.date.today(),
            expires_on=until,
        )
    return {
        "resellers.pk": link.pk,
        "resellers:allocation_accept.pk": allocation.pk,
        "resellers:allocation_decline.pk": allocation.pk,
        "resellers:assignment_create.pk": allocation.pk,
        "resellers:assignment_end.pk": assignment.pk,
        "pools.pk": allocation.pk,
    }


def _large_account_reseller_only(path: str) -> bool:
    """Licenses screens are a 404 at a partner that is not a large account reseller (alpha)."""
    return getattr(resolve(path).func, "large_account_reseller_only", False)


def _route_label(name: str, route: str) -> str:
    return f"{name} ({route})"


def test_the_matrix_walks_the_console(world):
    names = {name for name, _route, _arguments in console_urls()}
    assert {"core:home", "accounts:profile", "customers:customer_list", "settings:index"} <= names


def test_anonymous_visitors_are_sent_to_sign_in(world, partner_alpha):
    client = Client(HTTP_HOST=host_of(partner_alpha))
    problems = []
    for name, route, arguments in console_urls():
        if name in PUBLIC_URL_NAMES:
            continue
        path = reverse(name, kwargs=object_arguments(world, name, arguments))
        response = client.get(path)
        if response.status_code != 302 or not response["Location"].startswith("/accounts/sign-in/"):
            problems.append(f"{_route_label(name, route)}: {response.status_code}")
    assert problems == []


def test_another_partners_session_is_anonymous_here(world, partner_alpha, partner_beta):
    beta = signed_in_client(partner_beta)
    intruder = Client(HTTP_HOST=host_of(partner_alpha))
    intruder.cookies["sessionid"] = beta.cookies["sessionid"].value
    problems = []
    for name, route, arguments in console_urls():
        if name in PUBLIC_URL_NAMES:
            continue
        response = intruder.get(reverse(name, kwargs=object_arguments(world, name, arguments)))
        if response.status_code != 302 or not response["Location"].startswith("/accounts/sign-in/"):
            problems.append(f"{_route_label(name, route)}: {response.status_code}")
    assert problems == []


def test_a_customer_tenant_admin_sees_nothing_of_other_customers_or_partner_settings(world, partner_alpha):
    client = signed_in_client(partner_alpha, username="tenantadmin", password=PASSWORD)
    problems = []
    for name, route, arguments in console_urls():
        if name in PUBLIC_URL_NAMES:
            continue
        response = client.get(reverse(name, kwargs=object_arguments(world, name, arguments)))
        namespace = name.split(":")[0] if ":" in name else ""
        if name in OWN_FLOW_URL_NAMES:
            expected = {302}
        elif any(argument not in PLAIN_ARGUMENTS for argument in arguments):
            expected = {404}  # another customer's object, or one of a module they lack: it does not exist for them
        elif namespace in SETTINGS_NAMESPACES:
            expected = {403}
        elif name in REDIRECT_WHEN_DONE:
            expected = {302}
        else:
            expected = {200, 403, 404, 405}  # a page of their own scope, or a module they lack
        if response.status_code not in expected:
            problems.append(f"{_route_label(name, route)}: {response.status_code}, expected one of {sorted(expected)}")
    assert problems == []


def test_the_administrator_can_open_every_page(world, partner_alpha):
    client = signed_in_client(partner_alpha)
    problems = []
    for name, route, arguments in console_urls():
        if name in {"accounts:logout"} or name in PUBLIC_URL_NAMES:
            continue
        path = reverse(name, kwargs=object_arguments(world, name, arguments))
        response = client.get(path)
        if response.status_code == 404 and _large_account_reseller_only(path):
            continue  # alpha is no large account reseller: tests/resellers and tests/pools walk these at beta
        # 405: an action that only takes POST; 302: an action that redirects (export, flow start)
        if response.status_code not in {200, 302, 405}:
            problems.append(f"{_route_label(name, route)}: {response.status_code}")
    assert problems == []


# URLs whose object belongs to the out-of-scope customer (or its tenant): a partner user whose role
# covers only other customers gets exactly 404 there, whatever level the role grants.
CUSTOMER_SCOPED_NAMESPACES = {"customers", "subscriptions", "orders"}
CUSTOMER_SCOPED_NAMES = {
    "customer_add_service",
    "catalog:customer_price_edit",
    "catalog:customer_price_delete",
    "catalog:segment_member_remove",
    "catalog:store",
    "catalog:store_offer",
    "marketplace:tenant_connect",
    "marketplace:tenant_disconnect",
    "marketplace:tenant_remove",
    "reports:usage_detail",
    "reports:storage_customer",
}


def _customer_scoped(name: str, arguments: list[str]) -> bool:
    if not any(argument not in PLAIN_ARGUMENTS for argument in arguments):
        return False
    return name in CUSTOMER_SCOPED_NAMES or name.split(":")[0] in CUSTOMER_SCOPED_NAMESPACES


@pytest.mark.parametrize("level", [AccessLevel.VIEW, AccessLevel.MANAGE])
def test_a_partner_user_scoped_to_other_customers_gets_404_for_this_customers_objects(world, partner_alpha, level):
    from customers.models import Customer, CustomerGroup

    with schema_context(partner_alpha.schema_name):
        group = CustomerGroup.objects.create(name="Matrix scope")
        group.customers.add(Customer.objects.get(name="In Scope GmbH"))
        role = Role.objects.create(
            name=f"Scoped {level.label}", permissions={module: level for module in PermissionModule.values}
        )
        group.roles.add(role)
        UserFactory(username="scoped", email="scoped@alpha.example", kind=UserKind.PARTNER).roles.add(role)
    client = signed_in_client(partner_alpha, username="scoped", password=PASSWORD)
    problems = []
    scoped = [
        (name, route, arguments) for name, route, arguments in console_urls() if _customer_scoped(name, arguments)
    ]
    for name, route, arguments in scoped:
        response = client.get(reverse(name, kwargs=object_arguments(world, name, arguments)))
        if response.status_code != 404:
            problems.append(f"{_route_label(name, route)}: {response.status_code}")
    assert len(scoped) > 30
    assert problems == []


# -- the REST API: the same rules, walked with bearer tokens -----------------------------------------------------------
# Every operation of the OpenAPI document is walked, so an endpoint added later is covered without editing
# this test; a path parameter this table cannot fill fails with a message saying what to add.
API_PATH_OBJECTS = {
    "customer_id": "customers.customer_id",
    "customer_tenant_id": "customers.tenant_pk",
    "account_id": "marketplace.account_pk",
    "subscription_id": "subscriptions.pk",
    "order_id": "orders.order_pk",
    "request_id": "subscriptions:request_detail.pk",
    "statement_id": "api.statement_id",
}


@dataclass(frozen=True)
class ApiOperation:
    method: str
    template: str
    parameters: tuple[str, ...]

    @property
    def names_an_object(self) -> bool:
        return bool(self.parameters)

    def path(self, world: World) -> str:
        path = self.template
        for parameter in self.parameters:
            key = API_PATH_OBJECTS.get(parameter)
            if key is None or key not in world.objects:
                pytest.fail(f"The access matrix cannot fill {parameter!r} of {self}: add it to API_PATH_OBJECTS.")
            path = path.replace("{" + parameter + "}", str(world.objects[key]))
        return path

    def body(self, world: World) -> dict:
        """A body that is valid as far as its shape goes, naming the out-of-scope customer's objects."""
        if self.template.endswith("/quantity"):
            return {"quantity": 6}
        if self.template.endswith("/submit"):
            return {"terms_accepted": True}
        if self.template == "/api/v1/orders":
            return {
                "customer_tenant_id": world.objects["customers.tenant_pk"],
                "line": {"offer_id": world.objects["catalog.offer_pk"], "quantity": 1},
            }
        return {}

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


def api_operations() -> list[ApiOperation]:
    import re

    from api.v1 import api

    operations = []
    for template, methods in api.get_openapi_schema()["paths"].items():
        for method in methods:
            operations.append(ApiOperation(method.upper(), template, tuple(re.findall(r"{(\w+)}", template))))
    return sorted(operations, key=str)


def _api_call(client: Client, operation: ApiOperation, world: World):
    path = operation.path(world)
    if operation.method == "GET":
        return client.get(path)
    return client.post(
        path, operation.body(world), content_type="application/json", headers={"Idempotency-Key": f"matrix {path}"}
    )


def _api_client(partner, token: str | None) -> Client:
    from tests.api.api_support import api_client

    return api_client(partner, token)


def test_the_api_matrix_walks_the_api():
    names = {str(operation) for operation in api_operations()}
    assert {
        "GET /api/v1/customers",
        "POST /api/v1/orders",
        "POST /api/v1/subscriptions/{subscription_id}/quantity",
    } <= names


def test_the_api_refuses_requests_without_a_valid_token(world, partner_alpha):
    problems = []
    for token in (None, "mspc_000000000000_not-a-token", "not even the shape"):
        client = _api_client(partner_alpha, token)
        for operation in api_operations():
            response = _api_call(client, operation, world)
            if response.status_code != 401 or response["Content-Type"] != "application/problem+json":
                problems.append(f"{operation} with {token!r}: {response.status_code}")
    assert problems == []


def test_another_partners_token_is_no_token_here(world, partner_alpha, partner_beta):
    from tests.api.api_support import token_for

    client = _api_client(partner_alpha, token_for(partner_beta))
    problems = [
        f"{operation}: {response.status_code}"
        for operation in api_operations()
        if (response := _api_call(client, operation, world)).status_code != 401
    ]
    assert problems == []


def test_a_token_of_a_user_scoped_to_other_customers_gets_404_for_this_customers_objects(world, partner_alpha):
    from customers.models import Customer, CustomerGroup
    from tests.api.api_support import token_for

    with schema_context(partner_alpha.schema_name):
        group = CustomerGroup.objects.create(name="API scope")
        group.customers.add(Customer.objects.get(name="In Scope GmbH"))
        role = Role.objects.create(
            name="API scoped", permissions={module: AccessLevel.MANAGE for module in PermissionModule.values}
        )
        group.roles.add(role)
        UserFactory(username="apiscoped", email="apiscoped@alpha.example", kind=UserKind.PARTNER).roles.add(role)
    client = _api_client(partner_alpha, token_for(partner_alpha, username="apiscoped"))
    problems = []
    # Marketplace accounts are the partner's, not a customer's: whoever has the module sees them.
    scoped = [
        operation
        for operation in api_operations()
        if operation.names_an_object and "account_id" not in operation.parameters
    ]
    scoped.append(next(operation for operation in api_operations() if str(operation) == "POST /api/v1/orders"))
    for operation in scoped:
        response = _api_call(client, operation, world)
        if response.status_code != 404 or response.json()["status"] != 404:
            problems.append(f"{operation}: {response.status_code}")
    assert len(scoped) >= 10
    assert problems == []
    # ... and their lists do not name the other customer's objects
    listed = client.get("/api/v1/customers").json()
    assert [customer["name"] for customer in listed["items"]] == ["In Scope GmbH"]
    assert client.get("/api/v1/subscriptions").json()["count"] == 0


def test_a_read_only_token_writes_nothing(world, partner_alpha):
    from orders.models import Order
    from tests.api.api_support import READ_SCOPES, token_for

    client = _api_client(partner_alpha, token_for(partner_alpha, scopes=READ_SCOPES))
    with schema_context(partner_alpha.schema_name):
        orders_before = Order.objects.count()
    problems = []
    for operation in api_operations():
        if operation.method == "GET":
            continue
        response = _api_call(client, operation, world)
        if response.status_code != 403 or response.json()["type"].rsplit("/", 1)[-1] != "insufficient-scope":
            problems.append(f"{operation}: {response.status_code}")
    assert problems == []
    with schema_context(partner_alpha.schema_name):
        assert Order.objects.count() == orders_before


def test_a_token_reaches_only_the_modules_of_its_scopes(world, partner_alpha):
    from tests.api.api_support import token_for

    client = _api_client(partner_alpha, token_for(partner_alpha, scopes=["customers:read"]))
    assert client.get("/api/v1/customers").status_code == 200
    problems = []
    for operation in api_operations():
        if operation.method != "GET" or "/customer" in operation.template:
            continue
        if (response := _api_call(client, operation, world)).status_code != 403:
            problems.append(f"{operation}: {response.status_code}")
    assert problems == []


def test_a_customer_tenant_admins_roles_cap_what_a_token_reaches(world, partner_alpha):
    """Customer tenant admins cannot create tokens; a token whose user became one reaches only their customers."""
    from django.contrib.auth import get_user_model

    from tests.api.api_support import token_for

    token = token_for(partner_alpha, username="admin", scopes=["customers:read", "subscriptions:read"])
    with schema_context(partner_alpha.schema_name):
        administrator = get_user_model().objects.get(username="admin")
        administrator.is_superuser = False
        administrator.kind = UserKind.CUSTOMER_ADMIN
        administrator.save()
    client = _api_client(partner_alpha, token)
    assert client.get("/api/v1/customers").json()["count"] == 0
    assert (
        _api_call(client, ApiOperation("GET", "/api/v1/customers/{customer_id}", ("customer_id",)), world).status_code
        == 404
    )


def test_the_administrators_token_reads_every_object(world, partner_alpha):
    from tests.api.api_support import token_for

    client = _api_client(partner_alpha, token_for(partner_alpha))
    problems = [
        f"{operation}: {response.status_code} {response.content[:200]!r}"
        for operation in api_operations()
        if operation.method == "GET" and (response := _api_call(client, operation, world)).status_code != 200
    ]
    assert problems == []
