"""Writes of customers and customer tenants: atomic, audited, one function per action.

Calls to Microsoft (resolving a tenant, completing admin consent) happen before the transaction
that records their outcome, so a slow identity provider never holds a database transaction open.
"""

import hmac
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.choices import ConsentState
from customers.models import Customer, CustomerGroup, CustomerTenant
from portal.accounts.models import User
from portal.accounts.types import Actor
from portal.audit.choices import AuditAction, AuditResult
from portal.audit.services import audit_record, model_snapshot
from portal.core.names import name_clean, name_ensure_unique
from portal.microsoft.identity import AccessDenied, IdentityError, StateMismatch, TenantNotFound
from portal.microsoft.service import identity_client, public_callback_url, state_create

CUSTOMER_FIELDS = (
    "name",
    "status",
    "contact_name",
    "contact_email",
    "contact_phone",
    "address_line1",
    "address_line2",
    "city",
    "postal_code",
    "state",
    "country",
    "vat_number",
    "industry",
    "is_academic",
    "is_government",
    "is_non_profit",
    "preferred_language",
    "preferred_currency",
)
TENANT_FIELDS = ("tenant_id", "primary_domain", "display_name", "consent_state", "consented_at", "consented_by")
SUBSCRIPTION_ACTIVE = "active"
CONSENT_PURPOSE = "consent"


class CustomerActionRefused(Exception):
    """A business rule refuses the action; the message says why, in the user's words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConsentStateMismatch(CustomerActionRefused):
    """The consent answer does not belong to the consent this browser started: nothing is saved."""


class ConsentFailed(CustomerActionRefused):
    """Consent was declined, expired or could not be proven; the tenant's state says so."""


def _microsoft_words(exc: IdentityError) -> str:
    """Microsoft's own description of a failure, without the trace and correlation ids."""
    return (exc.description or str(exc)).split(" Trace ID:")[0].strip()


def _customer_snapshot(customer: Customer) -> dict[str, Any]:
    snapshot = model_snapshot(customer, (*CUSTOMER_FIELDS, "groups"))
    # a Country object is not JSON; django-countries has no types, so its CountryField reads as str
    snapshot["country"] = customer.country.code or ""  # type: ignore[attr-defined]
    return snapshot


def _actor_label(actor: Actor) -> str:
    if actor is None or isinstance(actor, str):
        return actor or "system"
    return actor.email or actor.username


# -- customers ------------------------------------------------------------------------------------------------------


def customer_active_subscription_count(*, customer: Customer, customer_tenant: CustomerTenant | None = None) -> int:
    """Active subscriptions of a customer (or of one of its tenants), which block deleting it.

    Subscriptions arrive with the subscriptions app (`subscriptions.Subscription`, linked through
    `customer_tenant`); until that model exists no customer has any.
    """
    try:
        subscription_model = apps.get_model("subscriptions", "Subscription")
    except LookupError:
        return 0
    subscriptions = subscription_model.objects.filter(status=SUBSCRIPTION_ACTIVE)
    if customer_tenant is not None:
        return subscriptions.filter(customer_tenant=customer_tenant).count()
    return subscriptions.filter(customer_tenant__customer=customer).count()


def _customer_name_check(name: str, *, exclude_pk: int | None = None) -> str:
    """The name normalised and free of invisible and control characters (a ValidationError on the
    name), and unlike every other customer's, look-alikes included (CustomerActionRefused)."""
    try:
        name = name_clean(name, max_length=Customer._meta.get_field("name").max_length)
    except ValidationError as error:
        raise ValidationError({"name": error.messages}) from error
    try:
        name_ensure_unique(
            name=name,
            queryset=Customer.objects.all(),
            exclude_pk=exclude_pk,
            duplicate_message=_("A customer called “%(name)s” already exists."),
        )
    except ValidationError as error:
        raise CustomerActionRefused(error.messages[0]) from error
    return name


def customer_create(*, actor: Actor, fields: Mapping[str, Any], groups: Iterable[CustomerGroup] = ()) -> Customer:
    """Onboard a customer. The name must be new (case-insensitive): two records of one
    organisation split its tenants and subscriptions."""
    values = {key: value for key, value in fields.items() if key in CUSTOMER_FIELDS}
    customer = Customer(**values, created_by=actor if isinstance(actor, User) else None)
    customer.name = _customer_name_check(customer.name or "")
    customer.full_clean(exclude=["created_by"])
    with transaction.atomic():
        customer.name = _customer_name_check(customer.name)
        customer.save()
        customer.groups.set(list(groups))
        audit_record(
            actor=actor,
            action=AuditAction.CUSTOMER_CREATE,
            target=customer,
            customer_id=customer.pk,
            after=_customer_snapshot(customer),
        )
    return customer


def customer_update(
    *,
    actor: Actor,
    customer: Customer,
    fields: Mapping[str, Any],
    groups: Iterable[CustomerGroup] | None = None,
) -> Customer:
    """Save a customer's details; `groups=None` leaves its customer groups as they are."""
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        before = _customer_snapshot(customer)
        for key, value in fields.items():
            if key in CUSTOMER_FIELDS:
                setattr(customer, key, value)
        if customer.name != before["name"]:  # a name stored before these checks may stay as it is
            customer.name = _customer_name_check(customer.name or "", exclude_pk=customer.pk)
        customer.full_clean(exclude=["created_by"])
        customer.save()
        if groups is not None:
            customer.groups.set(list(groups))
        audit_record(
            actor=actor,
            action=AuditAction.CUSTOMER_UPDATE,
            target=customer,
            customer_id=customer.pk,
            before=before,
            after=_customer_snapshot(customer),
        )
    return customer


def customer_delete(*, actor: Actor, customer: Customer) -> None:
    """Delete a customer with its tenants. Refused while it has active subscriptions: those are
    bought at a marketplace and must be cancelled there first."""
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        active = customer_active_subscription_count(customer=customer)
        if active:
            raise CustomerActionRefused(
                _(
                    "“%(name)s” has %(count)d active subscription(s). Cancel or transfer them before deleting "
                    "the customer."
                )
                % {"name": customer.name, "count": active}
            )
        tenants = [str(tenant) for tenant in customer.tenants.all()]
        audit_record(
            actor=actor,
            action=AuditAction.CUSTOMER_DELETE,
            target=customer,
            customer_id=customer.pk,
            before={**_customer_snapshot(customer), "tenants": tenants},
            message=_("Deleted with %(count)d tenant(s).") % {"count": len(tenants)},
        )
        customer.delete()


# -- customer tenants -----------------------------------------------------------------------------------------------


def customer_tenant_add(
    *, actor: Actor, customer: Customer, domain_or_id: str, display_name: str = ""
) -> CustomerTenant:
    """Attach a Microsoft tenant, given its ID or a verified domain, resolved the way Microsoft does.

    A tenant belongs to exactly one customer: attaching one that is already attached anywhere is refused.
    """
    try:
        tenant_id, domain = identity_client().resolve_tenant(domain_or_id=domain_or_id)
    except ValueError as exc:
        raise CustomerActionRefused(
            _("“%(value)s” is neither a tenant ID (GUID) nor a domain name.") % {"value": domain_or_id.strip()}
        ) from exc
    except TenantNotFound as exc:
        code = f" (AADSTS{exc.error_codes[0]})" if exc.error_codes else ""
        raise CustomerActionRefused(
            _("Microsoft knows no tenant “%(value)s”%(code)s. Check the tenant ID or domain.")
            % {"value": domain_or_id.strip(), "code": code}
        ) from exc
    except IdentityError as exc:
        raise CustomerActionRefused(
            _("The tenant could not be looked up at Microsoft right now: %(detail)s") % {"detail": exc}
        ) from exc
    with transaction.atomic():
        existing = CustomerTenant.objects.select_related("customer").filter(tenant_id=tenant_id).first()
        if existing is None and domain:
            existing = (
                CustomerTenant.objects.select_related("customer")
                .annotate(lowered=Lower("primary_domain"))
                .filter(lowered=domain)
                .first()
            )
        if existing is not None:
            if existing.customer_id == customer.pk:
                raise CustomerActionRefused(
                    _("Tenant %(tenant)s is already attached to this customer.") % {"tenant": existing}
                )
            raise CustomerActionRefused(
                _("Tenant %(tenant)s is already attached to another customer. A tenant belongs to one customer only.")
                % {"tenant": existing}
            )
        tenant = CustomerTenant(
            customer=customer,
            tenant_id=uuid.UUID(tenant_id),
            primary_domain=domain or "",
            display_name=display_name.strip(),
        )
        try:
            with transaction.atomic():
                tenant.save()
        except IntegrityError as exc:  # attached by someone else a moment ago
            raise CustomerActionRefused(
                _("Tenant %(tenant)s is already attached to another customer.") % {"tenant": tenant}
            ) from exc
        audit_record(
            actor=actor,
            action=AuditAction.CUSTOMER_TENANT_ADD,
            target=tenant,
            customer_id=customer.pk,
            after=model_snapshot(tenant, TENANT_FIELDS),
        )
    return tenant


def customer_tenant_remove(*, actor: Actor, customer_tenant: CustomerTenant) -> None:
    """Detach a tenant from its customer (Microsoft keeps the tenant; the console forgets it)."""
    with transaction.atomic():
        tenant = CustomerTenant.objects.select_for_update().get(pk=customer_tenant.pk)
        active = customer_active_subscription_count(customer=tenant.customer, customer_tenant=tenant)
        if active:
            raise CustomerActionRefused(
                _("Tenant %(tenant)s has %(count)d active subscription(s); it cannot be removed.")
                % {"tenant": tenant, "count": active}
            )
        audit_record(
            actor=actor,
            action=AuditAction.CUSTOMER_TENANT_REMOVE,
            target=tenant,
            customer_id=tenant.customer_id,
            before=model_snapshot(tenant, TENANT_FIELDS),
        )
        tenant.delete()


@dataclass(frozen=True)
class ConsentStart:
    """What the view needs: where to send the browser, and the state to keep in the session."""

    url: str
    state: str
    started_at: float


def customer_tenant_consent_start(
    *, actor: Actor, customer_tenant: CustomerTenant, schema_name: str, return_path: str
) -> ConsentStart:
    """Ask the customer's admin to grant the console's app in their tenant (Microsoft admin consent).

    The tenant waits in PENDING until the answer comes back to `return_path` through the public callback.
    """
    state = state_create(schema_name=schema_name, return_path=return_path, purpose=CONSENT_PURPOSE)
    try:
        url = identity_client().admin_consent_url(
            redirect_uri=public_callback_url(), state=state, tenant_hint=str(customer_tenant.tenant_id)
        )
    except IdentityError as exc:
        raise CustomerActionRefused(
            _("Microsoft cannot be reached to ask for consent right now: %(detail)s") % {"detail": exc}
        ) from exc
    with transaction.atomic():
        tenant = CustomerTenant.objects.select_for_update().get(pk=customer_tenant.pk)
        before = model_snapshot(tenant, ("consent_state",))
        tenant.consent_state = ConsentState.PENDING
        tenant.consent_requested_at = timezone.now()
        tenant.consent_message = ""
        tenant.save(update_fields=["consent_state", "consent_requested_at", "consent_message"])
        audit_record(
            actor=actor,
            action=AuditAction.CUSTOMER_TENANT_CONSENT_START,
            target=tenant,
            customer_id=tenant.customer_id,
            before=before,
            after=model_snapshot(tenant, ("consent_state",)),
        )
    return ConsentStart(url=url, state=state, started_at=time.time())


def _consent_outcome(
    *,
    actor: Actor,
    customer_tenant: CustomerTenant,
    consent_state: str,
    message: str,
    result: str,
) -> CustomerTenant:
    with transaction.atomic():
        tenant = CustomerTenant.objects.select_for_update().get(pk=customer_tenant.pk)
        before = model_snapshot(tenant, ("consent_state", "consented_at", "consented_by"))
        tenant.consent_state = consent_state
        tenant.consent_message = message if result == AuditResult.FAILURE else ""
        if consent_state == ConsentState.CONSENTED:
            tenant.consented_at = timezone.now()
            tenant.consented_by = _actor_label(actor)[:254]
        tenant.save(update_fields=["consent_state", "consent_message", "consented_at", "consented_by"])
        audit_record(
            actor=actor,
            action=AuditAction.CUSTOMER_TENANT_CONSENT,
            target=tenant,
            customer_id=tenant.customer_id,
            before=before,
            after=model_snapshot(tenant, ("consent_state", "consented_at", "consented_by")),
            result=result,
            message=message,
        )
    return tenant


def customer_tenant_consent_complete(
    *,
    actor: Actor,
    customer_tenant: CustomerTenant,
    params: Mapping[str, str],
    expected_state: str,
    started_at: float,
    now: float | None = None,
) -> CustomerTenant:
    """Record Microsoft's answer to the admin consent started for this tenant.

    Consent counts only when Microsoft confirms it for this very tenant and an app-only token can
    then be obtained there. A declined consent leaves the tenant DENIED with Microsoft's words; an
    answer that belongs to another flow (forged, mixed-up browser sessions) changes nothing.
    """
    client = identity_client()

    def failed(consent_state: str, message: str) -> ConsentFailed:
        _consent_outcome(
            actor=actor,
            customer_tenant=customer_tenant,
            consent_state=consent_state,
            message=message,
            result=AuditResult.FAILURE,
        )
        return ConsentFailed(message)

    received = str(params.get("state", ""))
    if not expected_state or not hmac.compare_digest(received.encode(), expected_state.encode()):
        raise ConsentStateMismatch(
            _("This consent answer does not belong to the consent started in this browser. Nothing was saved.")
        )
    if (time.time() if now is None else now) - started_at > client.flow_max_age:
        raise failed(
            ConsentState.NOT_CONSENTED,
            _("The consent took too long and has expired. Start it again with Authenticate."),
        )
    try:
        tenant_id = client.admin_consent_complete(params=params, expected_state=expected_state)
    except StateMismatch as exc:
        raise ConsentStateMismatch(
            _("This consent answer does not belong to the consent started in this browser. Nothing was saved.")
        ) from exc
    except AccessDenied as exc:
        detail = _microsoft_words(exc)
        raise failed(
            ConsentState.DENIED, _("Consent was declined at Microsoft: %(detail)s") % {"detail": detail}
        ) from exc
    except IdentityError as exc:
        message = _("Microsoft did not confirm the consent: %(detail)s") % {"detail": _microsoft_words(exc)}
        raise failed(ConsentState.NOT_CONSENTED, message) from exc
    if tenant_id != str(customer_tenant.tenant_id):
        message = _("Consent was granted in tenant %(granted)s, not in %(tenant)s. Sign in as an admin of %(tenant)s.")
        raise failed(ConsentState.NOT_CONSENTED, message % {"granted": tenant_id, "tenant": customer_tenant})
    try:
        client.acquire_app_token(tenant_id=tenant_id)
    except IdentityError as exc:
        message = _("Consent was reported, but the console cannot act in the tenant: %(detail)s") % {
            "detail": _microsoft_words(exc)
        }
        raise failed(ConsentState.NOT_CONSENTED, message) from exc
    return _consent_outcome(
        actor=actor,
        customer_tenant=customer_tenant,
        consent_state=ConsentState.CONSENTED,
        message="",
        result=AuditResult.SUCCESS,
    )
