"""New Microsoft tenants for customers, created at a marketplace that can (Partner Center, Cloudmore).

A domain is unique across all of Microsoft Online: the marketplace is asked whether it is free, as the
user types and again when the tenant is created. The marketplace creates a customer record together
with the tenant and its first admin. The console records the customer tenant and its connection to
that marketplace customer in one transaction, so the first subscription can be bought at once. The
admin's password is never stored: when the marketplace hands it to the partner, it is emailed to the
contact after commit; otherwise the marketplace has emailed it itself.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer, CustomerTenant
from marketplace.choices import SyncTrigger
from marketplace.connections import provider_for_account
from marketplace.models import MarketplaceAccount, MarketplaceCustomer, TenantConnection
from marketplace.providers.base import (
    Capability,
    CreatedTenant,
    CustomerDraft,
    DomainAvailability,
    ProviderError,
    Rejected,
    TenantDraft,
    tenant_domain,
)
from marketplace.providers.registry import marketplace_description
from marketplace.services import MarketplaceActionRefused, sync_run_request
from portal.accounts.types import Actor, actor_user
from portal.audit.choices import AuditAction, AuditResult
from portal.audit.services import audit_record

#: A Microsoft initial domain prefix: letters and digits, at most 27 of them.
DOMAIN_PREFIX = re.compile(r"^[a-z0-9]{1,27}$")
#: A custom domain: labels of letters, digits and inner hyphens, and a top-level name.
CUSTOM_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass(frozen=True)
class TenantCreation:
    customer_tenant: CustomerTenant
    connection: TenantConnection
    created: CreatedTenant


def account_creates_tenants(account: MarketplaceAccount) -> bool:
    return Capability.CREATE_TENANT in marketplace_description(account.marketplace).capabilities


def domain_prefix_suggest(customer: Customer) -> str:
    """A prefix from the customer's name ("Wingtip Toys GmbH" -> "wingtiptoys"), without legal forms."""
    words = re.findall(r"[a-z0-9]+", customer.name.lower())
    legal = {"gmbh", "ag", "kg", "ltd", "llc", "inc", "sa", "sas", "sarl", "bv", "nv", "oy", "ab", "kk", "plc"}
    kept = [word for word in words if word not in legal] or words
    return "".join(kept)[:27]


def tenant_address_missing_labels(customer: Customer) -> list[str]:
    """The company address fields Microsoft requires that the customer lacks, in the reader's words."""
    fields = (
        ("address_line1", _("Address")),
        ("city", _("City")),
        ("postal_code", _("Postal code")),
        ("country", _("Country")),
    )
    return [str(label) for name, label in fields if not str(getattr(customer, name) or "").strip()]


def domain_normalise(raw: str) -> str:
    """The whole domain the user means: a bare prefix is `<prefix>.onmicrosoft.com`. Refuses malformed input."""
    value = (raw or "").strip().lower().rstrip(".")
    if not value:
        raise MarketplaceActionRefused(_("Enter a domain."), field="domain_prefix")
    if "." not in value:
        if not DOMAIN_PREFIX.match(value):
            raise MarketplaceActionRefused(
                _("A Microsoft domain prefix has 1 to 27 letters and digits, nothing else."), field="domain_prefix"
            )
        return tenant_domain(value)
    prefix, _dot, suffix = value.partition(".")
    if suffix == "onmicrosoft.com":
        return domain_normalise(prefix)
    if not CUSTOM_DOMAIN.match(value):
        raise MarketplaceActionRefused(_("%(domain)s is not a domain name.") % {"domain": value}, field="domain_prefix")
    return value


def _known_to_console(domain: str) -> CustomerTenant | None:
    return (
        CustomerTenant.objects.annotate(domain_ci=Lower("primary_domain"))
        .filter(domain_ci=domain)
        .select_related("customer")
        .first()
    )


def domain_availability_check(*, account: MarketplaceAccount, domain: str) -> DomainAvailability:
    """Ask the marketplace whether the domain is free (a read: nothing is recorded or audited)."""
    whole = domain_normalise(domain)
    if _known_to_console(whole) is not None:
        return DomainAvailability(
            domain=whole,
            available=False,
            message=_("%(domain)s is already one of your customers' tenants.") % {"domain": whole},
        )
    if not account_creates_tenants(account):
        raise MarketplaceActionRefused(
            _("%(account)s cannot create Microsoft tenants.") % {"account": account}, field="account"
        )
    provider = provider_for_account(account)
    try:
        return provider.domain_availability(domain=whole)
    except ProviderError as error:
        raise MarketplaceActionRefused(
            _("%(account)s could not check the domain: %(error)s") % {"account": account, "error": error},
            field="domain_prefix",
        ) from error
    finally:
        provider.close()


def _customer_draft(customer: Customer, *, email: str) -> CustomerDraft:
    return CustomerDraft(
        name=customer.name,
        email=email,
        country=str(customer.country or ""),
        city=customer.city,
        address_line=customer.address_line1,
        postal_code=customer.postal_code,
        vat_id=customer.vat_number or None,
    )


def _credentials_email(*, customer: Customer, created: CreatedTenant, recipient: str, partner_name: str) -> None:
    context = {
        "customer": customer,
        "domain": created.domain,
        "user_name": created.admin_user_name,
        "password": created.admin_password,
        "partner_name": partner_name,
    }
    subject = "".join(render_to_string("marketplace/email/tenant_credentials_subject.txt", context).splitlines())
    body = render_to_string("marketplace/email/tenant_credentials.txt", context)
    EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient]).send()


def customer_tenant_create(
    *,
    actor: Actor,
    customer: Customer,
    account: MarketplaceAccount,
    domain_prefix: str,
    first_name: str,
    last_name: str,
    email: str,
    phone: str = "",
    partner_name: str = "",
) -> TenantCreation:
    """Create the customer's new Microsoft tenant at the account's marketplace, record it and connect it.

    Missing address fields are named before anything is sent; a taken domain is refused with what to
    do instead. Nothing is charged: the user goes on to buy the first subscription."""
    if not account_creates_tenants(account):
        raise MarketplaceActionRefused(
            _("%(account)s cannot create Microsoft tenants.") % {"account": account}, field="account"
        )
    missing = tenant_address_missing_labels(customer)
    if missing:
        raise MarketplaceActionRefused(
            _("Complete the customer's address first; Microsoft requires it for a new tenant. Missing: %(fields)s.")
            % {"fields": ", ".join(missing)}
        )
    domain = domain_normalise(domain_prefix)
    if not domain.endswith(".onmicrosoft.com"):
        raise MarketplaceActionRefused(
            _("A new tenant starts with a <prefix>.onmicrosoft.com domain; add custom domains to it later."),
            field="domain_prefix",
        )
    existing = _known_to_console(domain)
    if existing is not None:
        raise MarketplaceActionRefused(
            _("%(domain)s is already a tenant of %(customer)s.") % {"domain": domain, "customer": existing.customer},
            field="domain_prefix",
        )
    draft = TenantDraft(
        domain_prefix=domain.split(".")[0],
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email.strip(),
        phone=phone.strip() or None,
    )
    provider = provider_for_account(account)
    try:
        created = provider.create_customer_tenant(customer=_customer_draft(customer, email=draft.email), tenant=draft)
    except Rejected as rejected:
        _creation_failed(actor=actor, customer=customer, account=account, domain=domain, error=rejected.message)
        if rejected.code == "domain_taken":
            raise MarketplaceActionRefused(rejected.message, field="domain_prefix") from rejected
        raise MarketplaceActionRefused(
            _("%(account)s refused the tenant: %(error)s") % {"account": account, "error": rejected.message}
        ) from rejected
    except ProviderError as error:
        _creation_failed(actor=actor, customer=customer, account=account, domain=domain, error=str(error))
        raise MarketplaceActionRefused(
            _("%(account)s could not create the tenant: %(error)s") % {"account": account, "error": error}
        ) from error
    finally:
        provider.close()
    return _record_created(
        actor=actor, customer=customer, account=account, created=created, draft=draft, partner_name=partner_name
    )


def _creation_failed(*, actor: Actor, customer: Customer, account: MarketplaceAccount, domain: str, error: str) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.CUSTOMER_TENANT_CREATE,
        target=customer,
        target_label=domain,
        customer_id=customer.pk,
        after={"domain": domain, "account": account.display_name},
        result=AuditResult.FAILURE,
        message=error,
    )


def _record_created(
    *,
    actor: Actor,
    customer: Customer,
    account: MarketplaceAccount,
    created: CreatedTenant,
    draft: TenantDraft,
    partner_name: str,
) -> TenantCreation:
    record = created.customer
    with transaction.atomic():
        try:
            with transaction.atomic():
                tenant = CustomerTenant.objects.create(
                    customer=customer,
                    tenant_id=uuid.UUID(created.tenant_id) if created.tenant_id else uuid.uuid4(),
                    primary_domain=created.domain,
                    display_name=customer.name,
                )
        except IntegrityError as error:
            raise MarketplaceActionRefused(
                _("The marketplace created tenant %(domain)s, but the console already knows a tenant with its ID.")
                % {"domain": created.domain}
            ) from error
        MarketplaceCustomer.objects.update_or_create(
            account=account,
            external_id=record.external_id,
            defaults={
                "name": record.name,
                "email": record.email or "",
                "domains": list(record.domains),
                "country": record.country or "",
                "city": record.city or "",
                "vat_id": record.vat_id or "",
                "customer_number": record.customer_number or "",
                "active": record.active,
            },
        )
        connection = TenantConnection.objects.create(
            marketplace=account.marketplace,
            customer_tenant=tenant,
            account=account,
            external_customer_id=record.external_id,
            external_customer_name=record.name,
            connected_at=timezone.now(),
            created_by=actor_user(actor),
        )
        audit_record(
            actor=actor,
            action=AuditAction.CUSTOMER_TENANT_CREATE,
            target=tenant,
            customer_id=customer.pk,
            after={
                "tenant_id": str(tenant.tenant_id),
                "domain": created.domain,
                "account": account.display_name,
                "marketplace_customer": record.external_id,
                "admin_user_name": created.admin_user_name or "",
                "credentials_sent_to": created.credentials_sent_to or draft.email,
            },
        )
        sync_run_request(actor=None, account=account, trigger=SyncTrigger.CONNECTION)
        if created.admin_password:
            # Sent from this process after commit, never through the task queue: the password must not
            # rest in the broker, nor anywhere in the console.
            transaction.on_commit(
                lambda: _credentials_email(
                    customer=customer, created=created, recipient=draft.email, partner_name=partner_name
                )
            )
    return TenantCreation(customer_tenant=tenant, connection=connection, created=created)
