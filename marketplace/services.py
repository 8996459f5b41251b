"""Writes of the marketplace module: accounts, tenant connections, price customizations, sync requests.

Every write is atomic and audited. Calls to the marketplace (trying credentials) happen before the
transaction that records their outcome, so a slow marketplace never holds a database transaction.
The sync engine itself lives in `marketplace.sync`.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db import connection as database
from django.db.models import Max, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Offer
from catalog.pricing import money_round, percent_text  # rounding per currency has one home
from customers.models import CustomerTenant
from marketplace.choices import AccountStatus, SyncPhase, SyncStatus, SyncTrigger
from marketplace.connections import (
    provider_for_credentials,
    secret_options_decrypt,
    secret_options_encrypt,
)
from marketplace.models import (
    MarketplaceAccount,
    MarketplaceCustomer,
    PriceCustomization,
    SyncRun,
    TenantConnection,
)
from marketplace.providers.base import AuthenticationFailed, ProviderError, Throttled, Unavailable
from marketplace.providers.registry import marketplaces, region_label
from marketplace.secrets import SecretUnreadable, secret_decrypt, secret_encrypt, secret_is_current, secret_rotate
from portal.accounts.types import Actor, actor_user
from portal.audit.choices import AuditAction
from portal.audit.services import audit_record, model_snapshot
from portal.core.confirmation import confirmation_typed
from subscriptions.models import Subscription

ACCOUNT_FIELDS = (
    "marketplace",
    "display_name",
    "region",
    "username",
    "options",
    "status",
    "sync_interval_minutes",
    "sync_concurrency",
    "requests_per_second",
)
CONNECTION_FIELDS = ("marketplace", "customer_tenant", "account", "external_customer_id", "external_customer_name")
#: A queued or running sync older than this lost its worker: it no longer blocks a new one.
SYNC_ABANDONED_AFTER = timedelta(hours=2)


class MarketplaceActionRefused(Exception):
    """A business rule or the marketplace refuses the action; the message says why, in the user's words."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


# -- money -----------------------------------------------------------------------------------------------------------


def uniform_price(*, reseller_price: Decimal, percentage: Decimal, currency: str) -> Decimal:
    """The reseller price raised by `percentage` percent, rounded to the currency."""
    return money_round(reseller_price * (Decimal(100) + percentage) / Decimal(100), currency)


# -- marketplace accounts --------------------------------------------------------------------------------------------


def _marketplace_words(marketplace: str) -> str:
    info = marketplaces().get(marketplace)
    return info.name if info else marketplace


def _options_split(marketplace: str, options: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """(non-secret, secret) options as the marketplace declares them, empty values dropped; a missing
    required option is refused on its field (`option_<name>`)."""
    info = marketplaces().get(marketplace)
    declared = {option.name: option for option in info.options} if info else {}
    unknown = set(options) - set(declared)
    if unknown:
        raise ValueError(f"Not an option of {marketplace}: {', '.join(sorted(unknown))}")
    public: dict[str, str] = {}
    secret: dict[str, str] = {}
    for name, option in declared.items():
        value = options.get(name)
        value = "" if value is None else str(value)
        if not option.secret:
            value = value.strip()
        if not value:
            if option.required:
                raise MarketplaceActionRefused(
                    _("%(label)s is required.") % {"label": option.label}, field=f"option_{name}"
                )
            continue
        (secret if option.secret else public)[name] = value
    return public, secret


def marketplace_credentials_verify(
    *, marketplace: str, region: str, username: str, secret: str, options: Mapping[str, str] | None = None
) -> None:
    """Sign in at the marketplace with these credentials (and read the customer list, which needs
    the account's roles). Refused with the marketplace's own reason; nothing is stored here."""
    name = _marketplace_words(marketplace)
    try:
        provider = provider_for_credentials(
            marketplace=marketplace, region=region, username=username, secret=secret, options=options
        )
    except ValueError as error:  # a region the provider does not know
        raise MarketplaceActionRefused(str(error), field="region") from error
    try:
        next(iter(provider.list_customers()), None)
    except AuthenticationFailed as error:
        raise MarketplaceActionRefused(
            _("%(marketplace)s refused the sign-in: %(reason)s") % {"marketplace": name, "reason": error.message}
        ) from error
    except (Throttled, Unavailable) as error:
        raise MarketplaceActionRefused(
            _("%(marketplace)s did not answer, so the credentials could not be checked: %(reason)s Try again shortly.")
            % {"marketplace": name, "reason": error.message}
        ) from error
    except ProviderError as error:
        raise MarketplaceActionRefused(
            _("%(marketplace)s refused the account: %(reason)s") % {"marketplace": name, "reason": error.message}
        ) from error
    finally:
        provider.close()


def _account_conflict(
    *, marketplace: str, display_name: str, region: str, username: str, exclude_pk: int | None = None
) -> MarketplaceActionRefused | None:
    accounts = MarketplaceAccount.objects.filter(marketplace=marketplace)
    if exclude_pk is not None:
        accounts = accounts.exclude(pk=exclude_pk)
    if accounts.annotate(lowered=Lower("display_name")).filter(lowered=display_name.strip().lower()).exists():
        return MarketplaceActionRefused(
            _("Another account is already called “%(name)s”.") % {"name": display_name.strip()}, field="display_name"
        )
    if accounts.annotate(lowered=Lower("username")).filter(region=region, lowered=username.strip().lower()).exists():
        return MarketplaceActionRefused(
            _("The user %(username)s in %(region)s is already added as another account.")
            % {"username": username.strip(), "region": region_label(marketplace, region)},
            field="username",
        )
    return None


def marketplace_account_create(
    *,
    actor: Actor,
    marketplace: str,
    display_name: str,
    region: str,
    username: str,
    secret: str,
    options: Mapping[str, str] | None = None,
    sync_interval_minutes: int | None = None,
) -> MarketplaceAccount:
    """Add the partner's account at a marketplace once the marketplace accepted its credentials
    (with the marketplace's own connection `options`), and queue its first sync."""
    region = region.strip()
    conflict = _account_conflict(marketplace=marketplace, display_name=display_name, region=region, username=username)
    if conflict is not None:
        raise conflict
    public_options, secret_options = _options_split(marketplace, options or {})
    marketplace_credentials_verify(
        marketplace=marketplace,
        region=region,
        username=username.strip(),
        secret=secret,
        options={**public_options, **secret_options},
    )
    with transaction.atomic():
        account = MarketplaceAccount(
            marketplace=marketplace,
            display_name=display_name.strip(),
            region=region,
            username=username.strip(),
            secret_ciphertext=secret_encrypt(secret),
            options=public_options,
            secret_options_ciphertext=secret_options_encrypt(secret_options),
            created_by=actor_user(actor),
            credentials_changed_at=timezone.now(),
            credentials_warned_days=None,
        )
        if sync_interval_minutes is not None:
            account.sync_interval_minutes = sync_interval_minutes
        try:
            with transaction.atomic():
                account.save()
        except IntegrityError as error:  # added by someone else a moment ago
            raise MarketplaceActionRefused(_("This account was added a moment ago by someone else.")) from error
        audit_record(
            actor=actor,
            action=AuditAction.MARKETPLACE_ACCOUNT_CREATE,
            target=account,
            after=model_snapshot(account, ACCOUNT_FIELDS),
        )
        sync_run_request(actor=None, account=account, trigger=SyncTrigger.ACCOUNT)
    return account


ACCOUNT_EDITABLE_FIELDS = (
    "display_name",
    "region",
    "username",
    "secret",
    "options",
    "sync_interval_minutes",
    "sync_concurrency",
    "requests_per_second",
)
_CREDENTIAL_FIELDS = frozenset({"region", "username", "secret", "options"})


def marketplace_account_update(
    *, actor: Actor, account: MarketplaceAccount, changes: Mapping[str, Any]
) -> MarketplaceAccount:
    """Change fields of an account. New credentials (region, username, secret or some of the
    marketplace's `options`, given as {name: value}) are tried at the marketplace first; when they
    work the account is active again and a sync is queued."""
    unknown = set(changes) - set(ACCOUNT_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {
        key: (value.strip() if isinstance(value, str) and key != "secret" else value) for key, value in changes.items()
    }
    new_secret_options: dict[str, str] | None = None
    if "options" in values:
        try:
            stored_secret_options = secret_options_decrypt(account.secret_options_ciphertext)
        except SecretUnreadable as error:
            raise MarketplaceActionRefused(
                _("The stored secret options can no longer be decrypted. Enter them again first.")
            ) from error
        merged = {**(account.options or {}), **stored_secret_options, **values["options"]}
        public_options, new_secret_options = _options_split(account.marketplace, merged)
        changed_secret = new_secret_options != stored_secret_options
        values["options"] = public_options
        if public_options == (account.options or {}) and not changed_secret:
            values.pop("options")
            new_secret_options = None
    credentials_changed = any(
        key in _CREDENTIAL_FIELDS and (key in ("secret", "options") or values[key] != getattr(account, key))
        for key in values
    ) or (new_secret_options is not None)
    conflict = _account_conflict(
        marketplace=account.marketplace,
        display_name=values.get("display_name", account.display_name),
        region=values.get("region", account.region),
        username=values.get("username", account.username),
        exclude_pk=account.pk,
    )
    if conflict is not None:
        raise conflict
    if credentials_changed:
        try:
            secret = values["secret"] if "secret" in values else secret_decrypt(account.secret_ciphertext)
        except SecretUnreadable as error:
            raise MarketplaceActionRefused(
                _("The stored password can no longer be decrypted. Enter the password first.")
            ) from error
        if new_secret_options is None:
            try:
                secret_options = secret_options_decrypt(account.secret_options_ciphertext)
            except SecretUnreadable as error:
                raise MarketplaceActionRefused(
                    _("The stored secret options can no longer be decrypted. Enter them again first.")
                ) from error
        else:
            secret_options = new_secret_options
        marketplace_credentials_verify(
            marketplace=account.marketplace,
            region=values.get("region", account.region),
            username=values.get("username", account.username),
            secret=secret,
            options={**values.get("options", account.options or {}), **secret_options},
        )
    with transaction.atomic():
        account = MarketplaceAccount.objects.select_for_update().get(pk=account.pk)
        before = model_snapshot(account, ACCOUNT_FIELDS)
        for key, value in values.items():
            if key == "secret":
                account.secret_ciphertext = secret_encrypt(value)
            else:
                setattr(account, key, value)
        if new_secret_options is not None:
            account.secret_options_ciphertext = secret_options_encrypt(new_secret_options)
        if credentials_changed and account.status == AccountStatus.FAILING:
            account.status = AccountStatus.ACTIVE
            account.status_message = ""
        if "secret" in values or new_secret_options is not None:
            # A new secret or refresh token: its lifetime starts again.
            account.credentials_changed_at = timezone.now()
            account.credentials_warned_days = None
        account.save()
        after = model_snapshot(account, ACCOUNT_FIELDS)
        if "secret" in values:
            before["secret"], after["secret"] = "(previous)", "(changed)"
        if new_secret_options is not None:
            before["secret_options"], after["secret_options"] = "(previous)", "(changed)"
        audit_record(
            actor=actor, action=AuditAction.MARKETPLACE_ACCOUNT_UPDATE, target=account, before=before, after=after
        )
        if credentials_changed:
            sync_run_request(actor=None, account=account, trigger=SyncTrigger.ACCOUNT)
    return account


def marketplace_account_delete(*, actor: Actor, account: MarketplaceAccount) -> None:
    """Delete an account with what its syncs mirrored. Refused while tenants are connected through it."""
    with transaction.atomic():
        account = MarketplaceAccount.objects.select_for_update().get(pk=account.pk)
        connected = account.tenant_connections.count()
        if connected:
            raise MarketplaceActionRefused(
                _(
                    "“%(name)s” still connects %(count)d tenant(s) to %(marketplace)s. "
                    "Disconnect them before deleting the account."
                )
                % {
                    "name": account.display_name,
                    "count": connected,
                    "marketplace": _marketplace_words(account.marketplace),
                }
            )
        audit_record(
            actor=actor,
            action=AuditAction.MARKETPLACE_ACCOUNT_DELETE,
            target=account,
            before=model_snapshot(account, ACCOUNT_FIELDS),
        )
        account.delete()


@dataclass(frozen=True)
class SecretRotation:
    rotated: int
    current: int
    #: accounts whose secret no configured key decrypts: their password must be entered again
    unreadable: list[str]


def marketplace_secrets_rotate(*, dry_run: bool = False) -> SecretRotation:
    """Re-encrypt every account secret of the active partner with the newest key (`rotated` counts
    what would be re-encrypted on a dry run)."""
    rotated = current = 0
    unreadable = []
    with transaction.atomic():
        for account in MarketplaceAccount.objects.select_for_update().order_by("pk"):
            options_current = not account.secret_options_ciphertext or secret_is_current(
                account.secret_options_ciphertext
            )
            if secret_is_current(account.secret_ciphertext) and options_current:
                current += 1
                continue
            try:
                ciphertext = secret_rotate(account.secret_ciphertext)
                options_ciphertext = (
                    secret_rotate(account.secret_options_ciphertext) if account.secret_options_ciphertext else ""
                )
            except SecretUnreadable:
                unreadable.append(account.display_name)
                continue
            rotated += 1
            if not dry_run:
                account.secret_ciphertext = ciphertext
                account.secret_options_ciphertext = options_ciphertext
                account.save(update_fields=["secret_ciphertext", "secret_options_ciphertext", "updated"])
        if rotated and not dry_run:
            audit_record(
                actor="system",
                action=AuditAction.MARKETPLACE_ACCOUNT_ROTATE_SECRETS,
                target_label=_("Marketplace account secrets"),
                message=_("%(count)d secret(s) re-encrypted with the newest key.") % {"count": rotated},
            )
    return SecretRotation(rotated=rotated, current=current, unreadable=unreadable)


# -- tenants in a marketplace's module --------------------------------------------------------------------------------


def _connection_audit(connection: TenantConnection) -> dict[str, Any]:
    return model_snapshot(connection, CONNECTION_FIELDS)


def tenant_connection_add(*, actor: Actor, marketplace: str, customer_tenant: CustomerTenant) -> TenantConnection:
    """Add a customer tenant to a marketplace's module. The console's app must be consented in it."""
    if not customer_tenant.is_consented:
        raise MarketplaceActionRefused(
            _("Tenant %(tenant)s has not consented to the console's app yet. Complete the consent first.")
            % {"tenant": customer_tenant},
            field="customer_tenant",
        )
    with transaction.atomic():
        if TenantConnection.objects.filter(marketplace=marketplace, customer_tenant=customer_tenant).exists():
            raise MarketplaceActionRefused(
                _("Tenant %(tenant)s is already in the %(marketplace)s module.")
                % {"tenant": customer_tenant, "marketplace": _marketplace_words(marketplace)},
                field="customer_tenant",
            )
        connection = TenantConnection(
            marketplace=marketplace,
            customer_tenant=customer_tenant,
            created_by=actor_user(actor),
        )
        try:
            with transaction.atomic():
                connection.save()
        except IntegrityError as error:
            raise MarketplaceActionRefused(_("This tenant was added a moment ago by someone else.")) from error
        audit_record(
            actor=actor,
            action=AuditAction.MARKETPLACE_TENANT_ADD,
            target=connection,
            customer_id=customer_tenant.customer_id,
            after=_connection_audit(connection),
        )
    return connection


def _forget_subscriptions(connection: TenantConnection) -> int:
    """The mirrored subscriptions of a tenant at the account it is leaving: no longer managed here."""
    if connection.account_id is None:
        return 0
    deleted, _per_model = Subscription.objects.filter(
        account_id=connection.account_id, customer_tenant_id=connection.customer_tenant_id
    ).delete()
    return deleted


def tenant_connection_connect(
    *,
    actor: Actor,
    connection: TenantConnection,
    account: MarketplaceAccount,
    marketplace_customer: MarketplaceCustomer,
) -> TenantConnection:
    """Map a tenant to a customer at the marketplace through one account (also "Edit connection"),
    then sync the account so the tenant's subscriptions arrive."""
    if account.marketplace != connection.marketplace:
        raise MarketplaceActionRefused(_("That account belongs to another marketplace."), field="account")
    if marketplace_customer.account_id != account.pk:
        raise MarketplaceActionRefused(
            _("That customer is not one of %(account)s's customers.") % {"account": account}, field="customer"
        )
    with transaction.atomic():
        connection = (
            TenantConnection.objects.select_for_update().select_related("customer_tenant").get(pk=connection.pk)
        )
        if not connection.customer_tenant.is_consented:
            raise MarketplaceActionRefused(
                _("Tenant %(tenant)s has not consented to the console's app. Complete the consent first.")
                % {"tenant": connection.customer_tenant}
            )
        taken = (
            TenantConnection.objects.filter(account=account, external_customer_id=marketplace_customer.external_id)
            .exclude(pk=connection.pk)
            .select_related("customer_tenant")
            .first()
        )
        if taken is not None:
            raise MarketplaceActionRefused(
                _("%(customer)s is already connected to tenant %(tenant)s.")
                % {"customer": marketplace_customer.name, "tenant": taken.customer_tenant},
                field="customer",
            )
        before = _connection_audit(connection)
        was_connected = connection.is_connected
        unchanged = connection.account_id == account.pk and connection.external_customer_id == (
            marketplace_customer.external_id
        )
        if unchanged:
            return connection
        _forget_subscriptions(connection)
        connection.account = account
        connection.external_customer_id = marketplace_customer.external_id
        connection.external_customer_name = marketplace_customer.name
        connection.connected_at = timezone.now()
        connection.save()
        audit_record(
            actor=actor,
            action=AuditAction.MARKETPLACE_TENANT_CONNECTION_EDIT
            if was_connected
            else AuditAction.MARKETPLACE_TENANT_CONNECT,
            target=connection,
            customer_id=connection.customer_tenant.customer_id,
            before=before,
            after=_connection_audit(connection),
        )
        sync_run_request(actor=None, account=account, trigger=SyncTrigger.CONNECTION)
    return connection


def tenant_connection_disconnect(*, actor: Actor, connection: TenantConnection) -> TenantConnection:
    """Disconnect a tenant from the marketplace: it stays in the module, unmapped, and the console
    forgets its subscriptions there (the marketplace keeps them)."""
    with transaction.atomic():
        connection = (
            TenantConnection.objects.select_for_update().select_related("customer_tenant").get(pk=connection.pk)
        )
        if not connection.is_connected:
            raise MarketplaceActionRefused(
                _("Tenant %(tenant)s is not connected.") % {"tenant": connection.customer_tenant}
            )
        before = _connection_audit(connection)
        forgotten = _forget_subscriptions(connection)
        connection.account = None
        connection.external_customer_id = ""
        connection.external_customer_name = ""
        connection.connected_at = None
        connection.save()
        audit_record(
            actor=actor,
            action=AuditAction.MARKETPLACE_TENANT_DISCONNECT,
            target=connection,
            customer_id=connection.customer_tenant.customer_id,
            before=before,
            after=_connection_audit(connection),
            message=_("%(count)d mirrored subscription(s) forgotten.") % {"count": forgotten},
        )
    return connection


def tenant_connection_remove(*, actor: Actor, connection: TenantConnection, confirmation: str) -> None:
    """Take a tenant out of the marketplace's module ("Disconnect tenant"); the user types Yes."""
    if not confirmation_typed(confirmation):
        raise MarketplaceActionRefused(_("Type Yes to confirm."), field="confirmation")
    with transaction.atomic():
        connection = (
            TenantConnection.objects.select_for_update().select_related("customer_tenant").get(pk=connection.pk)
        )
        forgotten = _forget_subscriptions(connection)
        audit_record(
            actor=actor,
            action=AuditAction.MARKETPLACE_TENANT_REMOVE,
            target=connection,
            customer_id=connection.customer_tenant.customer_id,
            before=_connection_audit(connection),
            message=_("%(count)d mirrored subscription(s) forgotten.") % {"count": forgotten},
        )
        connection.delete()


# -- price customization ------------------------------------------------------------------------------------------


def _parse_price(raw: str | Decimal | None, currency: str) -> Decimal | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip().replace(",", "."))
    except InvalidOperation:
        raise MarketplaceActionRefused(_("“%(value)s” is not a price.") % {"value": raw}) from None
    if not value.is_finite() or value < 0:
        raise MarketplaceActionRefused(_("A price cannot be negative.") if value < 0 else _("That is not a price."))
    if value >= Decimal("1e10"):
        raise MarketplaceActionRefused(_("That price is too large."))
    return money_round(value, currency)


def _account_offer(account: MarketplaceAccount, offer_id: int) -> Offer:
    offer = Offer.objects.filter(account=account, pk=offer_id).first()
    if offer is None:
        raise MarketplaceActionRefused(_("That plan is not one of this account's plans."))
    return offer


def _price_snapshot(customization: PriceCustomization) -> dict[str, Any]:
    return {
        "offer": customization.offer.external_id,
        "currency": customization.currency,
        "price": customization.price,
    }


def _subscription_prices_pin(*, offer_ids) -> None:
    """Before a custom price changes: the subscriptions of these plans that have no price history yet keep
    what they were charged until now (a custom price edit never reaches back into billed cycles)."""
    from subscriptions.models import Subscription
    from subscriptions.services_prices import subscription_prices_pin

    subscription_prices_pin(subscriptions=Subscription.objects.filter(offer_id__in=list(offer_ids)))


def _subscription_prices_apply(*, actor: Actor, account: MarketplaceAccount, offer_ids, apply) -> int:
    """After a custom price changed: when the user chose to, the subscriptions of these plans get the new
    price from the next billing cycle or a date not in the past (`subscriptions.services_prices.PriceApply`)."""
    from subscriptions.models import Subscription
    from subscriptions.services_prices import subscription_prices_apply

    return subscription_prices_apply(
        actor=actor,
        subscriptions=Subscription.objects.filter(offer_id__in=list(offer_ids)),
        apply=apply,
        target=account,
        reason=_("Price customization changed"),
    )


def price_customizations_save(
    *,
    actor: Actor,
    account: MarketplaceAccount,
    prices: Mapping[tuple[int, str], str | Decimal | None],
    apply=None,
) -> int:
    """Save the Price column: {(offer id, currency): price or blank}. A blank price on a plan without a
    record leaves it alone; on a record it clears the price. Returns how many records changed."""
    parsed: dict[tuple[int, str], Decimal | None] = {}
    errors = []
    for (offer_id, currency), raw in prices.items():
        try:
            parsed[(offer_id, currency.upper())] = _parse_price(raw, currency)
        except MarketplaceActionRefused as error:
            errors.append(error.message)
    if errors:
        raise MarketplaceActionRefused(" ".join(dict.fromkeys(errors)))
    changed = 0
    changed_offers: list[int] = []
    with transaction.atomic():
        _subscription_prices_pin(offer_ids=[key[0] for key in parsed])
        existing = {
            (row.offer_id, row.currency): row
            for row in PriceCustomization.objects.select_for_update()
            .select_related("offer")
            .filter(account=account, offer_id__in=[key[0] for key in parsed])
        }
        offers = {offer.pk: offer for offer in Offer.objects.filter(account=account, pk__in=[key[0] for key in parsed])}
        for (offer_id, currency), price in parsed.items():
            offer = offers.get(offer_id)
            if offer is None:
                continue
            record = existing.get((offer_id, currency))
            if record is None:
                if price is None:
                    continue
                record = PriceCustomization(account=account, offer=offer, currency=currency, price=price)
                record.updated_by = actor_user(actor)
                record.save()
                audit_record(
                    actor=actor,
                    action=AuditAction.MARKETPLACE_PRICE_CREATE,
                    target=record,
                    after=_price_snapshot(record),
                )
                changed += 1
                changed_offers.append(offer_id)
            elif record.price != price:
                before = _price_snapshot(record)
                record.price = price
                record.updated_by = actor_user(actor)
                record.save()
                audit_record(
                    actor=actor,
                    action=AuditAction.MARKETPLACE_PRICE_UPDATE,
                    target=record,
                    before=before,
                    after=_price_snapshot(record),
                )
                changed += 1
                changed_offers.append(offer_id)
        _subscription_prices_apply(actor=actor, account=account, offer_ids=changed_offers, apply=apply)
    return changed


def price_customizations_set_uniform(
    *,
    actor: Actor,
    account: MarketplaceAccount,
    rows: Iterable[tuple[int, str]],
    percentage: Decimal,
    apply=None,
) -> list[PriceCustomization]:
    """ "Set a uniform price": for each selected (plan, currency), the reseller price plus `percentage`
    percent, rounded to the currency. Only rows in the plan's own currency have a reseller price."""
    if percentage <= Decimal(-100) or percentage > Decimal(10000):
        raise MarketplaceActionRefused(_("Enter a percentage above -100 and up to 10000."), field="percentage")
    rows = list(dict.fromkeys((offer_id, currency.upper()) for offer_id, currency in rows))
    if not rows:
        raise MarketplaceActionRefused(_("Select the plans to price first."))
    saved: list[PriceCustomization] = []
    with transaction.atomic():
        _subscription_prices_pin(offer_ids=[row[0] for row in rows])
        offers = {offer.pk: offer for offer in Offer.objects.filter(account=account, pk__in=[row[0] for row in rows])}
        for offer_id, currency in rows:
            offer = offers.get(offer_id)
            if offer is None:
                raise MarketplaceActionRefused(_("That plan is not one of this account's plans."))
            if currency != offer.currency:
                raise MarketplaceActionRefused(
                    _("%(plan)s has no reseller price in %(currency)s; set its price by hand.")
                    % {"plan": offer, "currency": currency}
                )
            price = uniform_price(reseller_price=offer.cost_price, percentage=percentage, currency=currency)
            record, created = PriceCustomization.objects.select_for_update().get_or_create(
                offer=offer, currency=currency, defaults={"account": account, "price": price}
            )
            before = None if created else _price_snapshot(record)
            record.price = price
            record.updated_by = actor_user(actor)
            record.save()
            audit_record(
                actor=actor,
                action=AuditAction.MARKETPLACE_PRICE_CREATE if created else AuditAction.MARKETPLACE_PRICE_UPDATE,
                target=record,
                before=before,
                after=_price_snapshot(record),
                message=_("Uniform price: reseller price %(percentage)s %%")
                % {"percentage": percent_text(percentage, signed=True)},
            )
            saved.append(record)
        _subscription_prices_apply(
            actor=actor, account=account, offer_ids=[record.offer_id for record in saved], apply=apply
        )
    return saved


def price_customization_add(
    *,
    actor: Actor,
    account: MarketplaceAccount,
    offer_id: int,
    currency: str,
    price: str | Decimal | None = None,
    apply=None,
) -> PriceCustomization:
    """ "Add licence and configure price": a record for a plan the marketplace lists, in a currency."""
    currency = currency.upper()
    parsed = _parse_price(price, currency)
    with transaction.atomic():
        offer = _account_offer(account, offer_id)
        _subscription_prices_pin(offer_ids=[offer.pk])
        if not offer.is_available:
            raise MarketplaceActionRefused(_("%(plan)s is no longer offered by the marketplace.") % {"plan": offer})
        if PriceCustomization.objects.filter(offer=offer, currency=currency).exists():
            raise MarketplaceActionRefused(
                _("%(plan)s already has a price record in %(currency)s.") % {"plan": offer, "currency": currency}
            )
        record = PriceCustomization.objects.create(
            account=account,
            offer=offer,
            currency=currency,
            price=parsed,
            updated_by=actor_user(actor),
        )
        audit_record(
            actor=actor, action=AuditAction.MARKETPLACE_PRICE_CREATE, target=record, after=_price_snapshot(record)
        )
        _subscription_prices_apply(actor=actor, account=account, offer_ids=[offer.pk], apply=apply)
    return record


def price_customizations_delete(
    *, actor: Actor, account: MarketplaceAccount, rows: Iterable[tuple[int, str]], apply=None
) -> int:
    """Delete the selected price records (a plan without a record keeps showing its reseller price)."""
    keys = {(offer_id, currency.upper()) for offer_id, currency in rows}
    if not keys:
        raise MarketplaceActionRefused(_("Select the records to delete first."))
    condition = Q(pk__in=[])
    for offer_id, currency in keys:
        condition |= Q(offer_id=offer_id, currency=currency)
    deleted = 0
    deleted_offers: list[int] = []
    with transaction.atomic():
        _subscription_prices_pin(offer_ids=[offer_id for offer_id, _currency in keys])
        for record in (
            PriceCustomization.objects.select_for_update().select_related("offer").filter(condition, account=account)
        ):
            audit_record(
                actor=actor, action=AuditAction.MARKETPLACE_PRICE_DELETE, target=record, before=_price_snapshot(record)
            )
            deleted_offers.append(record.offer_id)
            record.delete()
            deleted += 1
        _subscription_prices_apply(actor=actor, account=account, offer_ids=deleted_offers, apply=apply)
    return deleted


# -- sync requests ----------------------------------------------------------------------------------------------------


def _enqueue_sync(run: SyncRun) -> None:
    from marketplace.tasks import sync_account_run  # the task module imports the services
    from portal.core.tasks import enqueue_on_commit

    enqueue_on_commit(sync_account_run, run_id=run.pk)


def sync_run_active(*, account: MarketplaceAccount, now: datetime | None = None) -> SyncRun | None:
    """The account's queued or running sync, unless it was abandoned by a worker that died."""
    since = (now or timezone.now()) - SYNC_ABANDONED_AFTER
    return (
        SyncRun.objects.filter(
            account=account,
            status__in=(SyncStatus.QUEUED, SyncStatus.RUNNING, SyncStatus.RETRYING),
            created__gte=since,
        )
        .order_by("-created")
        .first()
    )


def sync_run_request(*, actor: Actor, account: MarketplaceAccount, trigger: str) -> SyncRun:
    """Queue a sync of the account, or return the one already queued or running ("Sync now" twice
    is one sync). The task is sent when the transaction commits."""
    with transaction.atomic():
        # Requests for one account queue one after the other, so two (a click and beat) never both
        # find no active run and queue two.
        MarketplaceAccount.objects.select_for_update().filter(pk=account.pk).first()
        active = sync_run_active(account=account)
        if active is not None:
            return active
        run = SyncRun.objects.create(
            account=account,
            trigger=trigger,
            requested_by=actor_user(actor),
        )
        if actor is not None:
            audit_record(actor=actor, action=AuditAction.MARKETPLACE_ACCOUNT_SYNC_REQUEST, target=account)
        _enqueue_sync(run)
    return run


def sync_slot(*, schema_name: str, account_id: int, interval_minutes: int, now: datetime) -> datetime:
    """The latest moment at or before `now` that the account's scheduled sync falls on.

    Each account has slots every `interval_minutes`, from an offset a hash of its partner's schema
    and its id spreads over the interval: a thousand partners' accounts on a one-hour interval start
    at a thousand moments spread over the hour, not all when their partners were created, and not
    all again after an outage. The offset is stable, so an account keeps its moment."""
    interval = max(int(interval_minutes), 1) * 60
    offset = zlib.crc32(f"{schema_name}:{account_id}".encode()) % interval
    moment = int(now.timestamp())
    return datetime.fromtimestamp(moment - (moment - offset) % interval, tz=UTC)


def sync_runs_schedule_due(*, now: datetime | None = None) -> list[SyncRun]:
    """Queue a sync for every account of the active partner whose slot (`sync_slot`) has come since
    its last sync was queued, unless one is queued or running. Abandoned runs are closed as failed
    so they stop blocking."""
    now = now or timezone.now()
    abandoned = SyncRun.objects.filter(
        status__in=(SyncStatus.QUEUED, SyncStatus.RUNNING, SyncStatus.RETRYING),
        created__lt=now - SYNC_ABANDONED_AFTER,
    )
    if abandoned.exists():
        abandoned.update(
            status=SyncStatus.FAILED,
            phase=SyncPhase.DONE,
            finished_at=now,
            error_message=_("The worker running this sync stopped before it finished."),
        )
    queued = []
    schema_name = database.schema_name  # type: ignore[attr-defined]  # django-tenants' DatabaseWrapper
    accounts = MarketplaceAccount.objects.annotate(last_queued=Max("sync_runs__created"))
    for account in accounts:
        slot = sync_slot(
            schema_name=schema_name, account_id=account.pk, interval_minutes=account.sync_interval_minutes, now=now
        )
        due = account.last_queued is None or account.last_queued < slot
        if due and sync_run_active(account=account, now=now) is None:
            queued.append(sync_run_request(actor=None, account=account, trigger=SyncTrigger.SCHEDULE))
    return queued
