"""Writes of the catalog: its structure, what customers may see and buy, and the partner's prices.

Every function runs in a transaction and records an audit event. A refused change raises
`CatalogActionRefused` with the user's words and, where it belongs to a form field, that field.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from catalog.choices import Eligibility
from catalog.classification import DEFAULT_CATEGORIES, DefaultCategory, eligibility_guess, product_family
from catalog.models import (
    CatalogSettings,
    Category,
    CustomerPrice,
    CustomerSegment,
    Offer,
    ProductGroup,
    SegmentMembership,
    SegmentPrice,
)
from customers.models import Customer
from portal.accounts.types import Actor, actor_user
from portal.audit.choices import AuditAction
from portal.audit.services import audit_record, model_snapshot
from portal.core.locks import transaction_lock

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
PRICE_PLACES = Decimal("0.0001")


class CatalogActionRefused(Exception):
    """A business rule refuses the change; the message says why, in the user's words."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


def _unique_slug(model, name: str, *, exclude_pk: int | None = None) -> str:
    base = slugify(name)[:90] or "item"
    taken = set(model.objects.filter(slug__startswith=base).exclude(pk=exclude_pk).values_list("slug", flat=True))
    slug, number = base, 2
    while slug in taken:
        slug = f"{base}-{number}"
        number += 1
    return slug


def _name_taken(model, name: str, *, exclude_pk: int | None = None) -> bool:
    return model.objects.filter(name__iexact=name.strip()).exclude(pk=exclude_pk).exists()


# -- default markup --------------------------------------------------------------------------------------------------


# -- what a price edit does to the subscriptions already bought ----------------------------------------------------


def _subscriptions_priced_by(*, offer: Offer | None = None, customer: Customer | None = None, segment=None):
    from subscriptions.models import Subscription

    rows = Subscription.objects.filter(offer__isnull=False)
    if offer is not None:
        rows = rows.filter(offer=offer)
    if customer is not None:
        rows = rows.filter(customer_tenant__customer=customer)
    if segment is not None:
        rows = rows.filter(customer_tenant__customer__catalog_segment_membership__segment=segment)
    return rows


def _prices_pin(subscriptions) -> None:
    """Before the catalog changes: subscriptions without price history keep what they were charged until now."""
    from subscriptions.services_prices import subscription_prices_pin

    subscription_prices_pin(subscriptions=subscriptions)


def _prices_apply(*, actor: Actor, subscriptions, apply, target, reason: str, customer_id: int | None = None) -> int:
    from subscriptions.services_prices import subscription_prices_apply

    return subscription_prices_apply(
        actor=actor, subscriptions=subscriptions, apply=apply, target=target, reason=reason, customer_id=customer_id
    )


SETTINGS_FIELDS = ["default_markup_percent", "large_quantity_seats"]


def catalog_settings_update(
    *, actor: Actor, default_markup_percent: Decimal, large_quantity_seats: int | None = None, apply=None
) -> CatalogSettings:
    """The partner's default markup (every offer without a custom price is priced at cost plus this,
    and a Price Options markup adds to it) and the seat count above which an order needs confirming.

    Subscriptions already bought keep their price unless `apply` (a `subscriptions.services_prices.PriceApply`)
    says from when the new one reaches them; never before that, so billed cycles do not change."""
    if default_markup_percent <= -HUNDRED:
        raise CatalogActionRefused(_("A markup must be above -100%."), field="default_markup_percent")
    if large_quantity_seats is not None and large_quantity_seats < 1:
        raise CatalogActionRefused(_("Enter at least 1 seat."), field="large_quantity_seats")
    with transaction.atomic():
        affected = _subscriptions_priced_by()
        _prices_pin(affected)
        settings = CatalogSettings.objects.select_for_update().order_by("pk").first() or CatalogSettings()
        before = model_snapshot(settings, SETTINGS_FIELDS) if settings.pk else {}
        settings.default_markup_percent = default_markup_percent.quantize(CENT)
        if large_quantity_seats is not None:
            settings.large_quantity_seats = large_quantity_seats
        settings.updated_by = actor_user(actor)
        settings.save()
        audit_record(
            actor=actor,
            action=AuditAction.DEFAULT_MARKUP_UPDATE,
            target=settings,
            before=before,
            after=model_snapshot(settings, SETTINGS_FIELDS),
        )
        _prices_apply(
            actor=actor,
            subscriptions=affected,
            apply=apply,
            target=settings,
            reason=_("Default markup changed to %(percent)s%%") % {"percent": settings.default_markup_percent},
        )
    return settings


# -- categories and product groups ---------------------------------------------------------------------------------

CATEGORY_FIELDS = ["name", "description", "position"]
GROUP_FIELDS = ["name", "category_id", "description", "is_visible", "position"]


def category_create(*, actor: Actor, name: str, description: str = "", position: int = 100) -> Category:
    name = name.strip()
    with transaction.atomic():
        if _name_taken(Category, name):
            raise CatalogActionRefused(_("A category with this name exists."), field="name")
        category = Category.objects.create(
            name=name, slug=_unique_slug(Category, name), description=description, position=position
        )
        audit_record(
            actor=actor,
            action=AuditAction.CATEGORY_CREATE,
            target=category,
            after=model_snapshot(category, CATEGORY_FIELDS),
        )
    return category


def category_update(
    *, actor: Actor, category: Category, name: str, description: str = "", position: int = 100
) -> Category:
    name = name.strip()
    with transaction.atomic():
        if _name_taken(Category, name, exclude_pk=category.pk):
            raise CatalogActionRefused(_("A category with this name exists."), field="name")
        before = model_snapshot(category, CATEGORY_FIELDS)
        category.name, category.description, category.position = name, description, position
        category.save()
        audit_record(
            actor=actor,
            action=AuditAction.CATEGORY_UPDATE,
            target=category,
            before=before,
            after=model_snapshot(category, CATEGORY_FIELDS),
        )
    return category


def category_delete(*, actor: Actor, category: Category) -> None:
    """Its product groups stay, without a category ("Other" on the catalog pages)."""
    with transaction.atomic():
        before = model_snapshot(category, CATEGORY_FIELDS)
        groups = category.product_groups.count()
        audit_record(
            actor=actor,
            action=AuditAction.CATEGORY_DELETE,
            target=category,
            before=before,
            message=_("%(count)s product groups left without a category.") % {"count": groups} if groups else "",
        )
        category.delete()


def product_group_create(
    *,
    actor: Actor,
    name: str,
    category: Category | None,
    description: str = "",
    is_visible: bool = True,
    position: int = 100,
) -> ProductGroup:
    name = name.strip()
    with transaction.atomic():
        if _name_taken(ProductGroup, name):
            raise CatalogActionRefused(_("A product group with this name exists."), field="name")
        group = ProductGroup.objects.create(
            name=name,
            slug=_unique_slug(ProductGroup, name),
            category=category,
            description=description,
            is_visible=is_visible,
            position=position,
        )
        audit_record(
            actor=actor,
            action=AuditAction.PRODUCT_GROUP_CREATE,
            target=group,
            after=model_snapshot(group, GROUP_FIELDS),
        )
    return group


def product_group_update(
    *,
    actor: Actor,
    group: ProductGroup,
    name: str,
    category: Category | None,
    description: str = "",
    is_visible: bool = True,
    position: int = 100,
) -> ProductGroup:
    """A hidden group hides all its offers from customers, whatever each offer's own flag says."""
    name = name.strip()
    with transaction.atomic():
        if _name_taken(ProductGroup, name, exclude_pk=group.pk):
            raise CatalogActionRefused(_("A product group with this name exists."), field="name")
        before = model_snapshot(group, GROUP_FIELDS)
        group.name, group.category, group.description = name, category, description
        group.is_visible, group.position = is_visible, position
        group.save()
        audit_record(
            actor=actor,
            action=AuditAction.PRODUCT_GROUP_UPDATE,
            target=group,
            before=before,
            after=model_snapshot(group, GROUP_FIELDS),
        )
    return group


def _classify_lock() -> None:
    """One classification at a time per partner: two syncs finishing together would create a group twice."""
    transaction_lock("catalog.classify")


def _default_category(default: DefaultCategory, categories: dict[str, Category]) -> Category:
    category = categories.get(default.slug)
    if category is None:
        category = Category.objects.filter(name__iexact=str(default.name)).first() or Category.objects.create(
            name=str(default.name), slug=_unique_slug(Category, default.slug), position=default.position
        )
        categories[default.slug] = category
    return category


def default_categories_ensure() -> list[Category]:
    """The default categories, created once; the partner renames, reorders or deletes them at will."""
    categories = {category.slug: category for category in Category.objects.all()}
    return [_default_category(default, categories) for default in DEFAULT_CATEGORIES]


def offers_classify(*, actor: Actor = None, account=None) -> int:
    """Put every offer that has no product group yet into one (created with its default category when
    new), and guess its eligibility from its name. Offers the partner already placed are never touched,
    so it is safe to run after every sync. Returns how many offers were placed."""
    with transaction.atomic():
        _classify_lock()
        unplaced = Offer.objects.filter(product_group__isnull=True)
        if account is not None:
            unplaced = unplaced.filter(account=account)
        rows = list(unplaced.values_list("pk", "name", "vendor"))
        if not rows:
            return 0
        groups = {group.name.lower(): group for group in ProductGroup.objects.all()}
        categories = {category.slug: category for category in Category.objects.all()}
        by_group: dict[int, list[int]] = defaultdict(list)
        by_eligibility: dict[str, list[int]] = defaultdict(list)
        created: list[str] = []
        for pk, name, vendor in rows:
            group_name, default = product_family(name=name, vendor=vendor)
            group = groups.get(group_name.lower())
            if group is None:
                group = ProductGroup.objects.create(
                    name=group_name,
                    slug=_unique_slug(ProductGroup, group_name),
                    category=_default_category(default, categories),
                )
                groups[group_name.lower()] = group
                created.append(group_name)
            by_group[group.pk].append(pk)
            eligibility = eligibility_guess(name=name)
            if eligibility:
                by_eligibility[eligibility].append(pk)
        for group_pk, pks in by_group.items():
            Offer.objects.filter(pk__in=pks).update(product_group_id=group_pk)
        for eligibility, pks in by_eligibility.items():
            Offer.objects.filter(pk__in=pks).update(eligibility=eligibility)
        audit_record(
            actor=actor if actor is not None else "catalog",
            action=AuditAction.OFFERS_CLASSIFY,
            target=account,
            after={"offers": len(rows), "new_product_groups": created},
            message=_("%(count)s offers placed in product groups.") % {"count": len(rows)},
        )
    return len(rows)


# -- what customers may see and buy ---------------------------------------------------------------------------------

OFFER_CUSTOMIZE_FIELDS = ["is_visible", "eligibility", "product_group_id"]


def offer_customize(
    *, actor: Actor, offer: Offer, is_visible: bool, eligibility: str, product_group: ProductGroup | None
) -> Offer:
    if eligibility not in Eligibility.values:
        raise CatalogActionRefused(_("Choose who may buy this offer."), field="eligibility")
    with transaction.atomic():
        offer = Offer.objects.select_for_update().get(pk=offer.pk)
        before = model_snapshot(offer, OFFER_CUSTOMIZE_FIELDS)
        # update(): the synced columns (and the row's `updated`) are the sync's, not touched here
        Offer.objects.filter(pk=offer.pk).update(
            is_visible=is_visible, eligibility=eligibility, product_group=product_group
        )
        offer.is_visible, offer.eligibility, offer.product_group = is_visible, eligibility, product_group
        audit_record(
            actor=actor,
            action=AuditAction.OFFER_CUSTOMIZE,
            target=offer,
            before=before,
            after=model_snapshot(offer, OFFER_CUSTOMIZE_FIELDS),
        )
    return offer


def offers_visibility_set(*, actor: Actor, offer_ids: Iterable[int], is_visible: bool) -> int:
    """Show or hide many offers at once (Catalog > Customize); returns how many changed."""
    ids = sorted(set(offer_ids))
    with transaction.atomic():
        changed = list(
            Offer.objects.select_for_update()
            .filter(pk__in=ids)
            .exclude(is_visible=is_visible)
            .values_list("pk", "name")
        )
        if changed:
            Offer.objects.filter(pk__in=[pk for pk, _name in changed]).update(is_visible=is_visible)
            for pk, name in changed:
                audit_record(
                    actor=actor,
                    action=AuditAction.OFFER_CUSTOMIZE,
                    target=Offer(pk=pk),
                    target_label=name,
                    before={"is_visible": not is_visible},
                    after={"is_visible": is_visible},
                )
    return len(changed)


# -- segments ---------------------------------------------------------------------------------------------------------

SEGMENT_FIELDS = ["name", "description"]
RULE_FIELDS = ["markup_percent", "price"]


def _rule_check(markup_percent: Decimal | None, price: Decimal | None) -> None:
    if (markup_percent is None) == (price is None):
        raise CatalogActionRefused(_("Enter either a markup or a price."), field="price")
    if markup_percent is not None and markup_percent <= -HUNDRED:
        raise CatalogActionRefused(_("A markup must be above -100%."), field="markup_percent")
    if price is not None and price < 0:
        raise CatalogActionRefused(_("A price cannot be negative."), field="price")


def _rule_values(markup_percent: Decimal | None, price: Decimal | None) -> tuple[Decimal | None, Decimal | None]:
    """As the database stores them, so the audit trail says what was saved."""
    return (
        markup_percent.quantize(CENT) if markup_percent is not None else None,
        price.quantize(PRICE_PLACES) if price is not None else None,
    )


def segment_create(*, actor: Actor, name: str, description: str = "") -> CustomerSegment:
    name = name.strip()
    with transaction.atomic():
        if _name_taken(CustomerSegment, name):
            raise CatalogActionRefused(_("A segment with this name exists."), field="name")
        segment = CustomerSegment.objects.create(name=name, description=description)
        audit_record(
            actor=actor,
            action=AuditAction.SEGMENT_CREATE,
            target=segment,
            after=model_snapshot(segment, SEGMENT_FIELDS),
        )
    return segment


def segment_update(*, actor: Actor, segment: CustomerSegment, name: str, description: str = "") -> CustomerSegment:
    name = name.strip()
    with transaction.atomic():
        if _name_taken(CustomerSegment, name, exclude_pk=segment.pk):
            raise CatalogActionRefused(_("A segment with this name exists."), field="name")
        before = model_snapshot(segment, SEGMENT_FIELDS)
        segment.name, segment.description = name, description
        segment.save()
        audit_record(
            actor=actor,
            action=AuditAction.SEGMENT_UPDATE,
            target=segment,
            before=before,
            after=model_snapshot(segment, SEGMENT_FIELDS),
        )
    return segment


def segment_delete(*, actor: Actor, segment: CustomerSegment) -> None:
    """Its customers pay the partner price again (or their own customer prices)."""
    with transaction.atomic():
        members = segment.memberships.count()
        prices = segment.prices.count()
        audit_record(
            actor=actor,
            action=AuditAction.SEGMENT_DELETE,
            target=segment,
            before={**model_snapshot(segment, SEGMENT_FIELDS), "customers": members, "prices": prices},
        )
        segment.delete()


def segment_member_add(*, actor: Actor, segment: CustomerSegment, customer: Customer) -> SegmentMembership:
    """A customer is in one segment at most: adding it to another is refused, not a silent move."""
    with transaction.atomic():
        current = (
            SegmentMembership.objects.select_for_update().filter(customer=customer).select_related("segment").first()
        )
        if current is not None:
            if current.segment_id == segment.pk:
                raise CatalogActionRefused(
                    _("%(customer)s is already in this segment.") % {"customer": customer.name}, field="customer"
                )
            raise CatalogActionRefused(
                _("%(customer)s is in segment %(segment)s. Remove it there first.")
                % {"customer": customer.name, "segment": current.segment.name},
                field="customer",
            )
        membership = SegmentMembership.objects.create(segment=segment, customer=customer)
        audit_record(
            actor=actor,
            action=AuditAction.SEGMENT_MEMBER_ADD,
            target=segment,
            customer_id=customer.pk,
            after={"customer": customer.name},
        )
    return membership


def segment_member_remove(*, actor: Actor, membership: SegmentMembership) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditAction.SEGMENT_MEMBER_REMOVE,
            target=membership.segment,
            customer_id=membership.customer_id,
            before={"customer": membership.customer.name},
        )
        membership.delete()


def segment_price_set(
    *,
    actor: Actor,
    segment: CustomerSegment,
    offer: Offer,
    markup_percent: Decimal | None = None,
    price: Decimal | None = None,
    apply=None,
) -> SegmentPrice:
    """Create or change the segment's price of an offer: a markup on its cost price or a fixed price.
    Its customers' subscriptions keep their price unless `apply` says from when (see `catalog_settings_update`)."""
    _rule_check(markup_percent, price)
    with transaction.atomic():
        affected = _subscriptions_priced_by(offer=offer, segment=segment)
        _prices_pin(affected)
        row = SegmentPrice.objects.select_for_update().filter(segment=segment, offer=offer).first()
        before = model_snapshot(row, RULE_FIELDS) if row else {}
        if row is None:
            row = SegmentPrice(segment=segment, offer=offer)
        row.markup_percent, row.price = _rule_values(markup_percent, price)
        row.save()
        audit_record(
            actor=actor,
            action=AuditAction.SEGMENT_PRICE_SET,
            target=offer,
            target_label=f"{segment.name}: {offer}",
            before=before,
            after={**model_snapshot(row, RULE_FIELDS), "segment": segment.name},
        )
        _prices_apply(
            actor=actor,
            subscriptions=affected,
            apply=apply,
            target=offer,
            reason=_("Segment price of %(segment)s changed") % {"segment": segment.name},
        )
    return row


def segment_price_delete(*, actor: Actor, segment_price: SegmentPrice, apply=None) -> None:
    with transaction.atomic():
        affected = _subscriptions_priced_by(offer=segment_price.offer, segment=segment_price.segment)
        _prices_pin(affected)
        audit_record(
            actor=actor,
            action=AuditAction.SEGMENT_PRICE_DELETE,
            target=segment_price.offer,
            target_label=f"{segment_price.segment.name}: {segment_price.offer}",
            before={**model_snapshot(segment_price, RULE_FIELDS), "segment": segment_price.segment.name},
        )
        segment_price.delete()
        _prices_apply(
            actor=actor,
            subscriptions=affected,
            apply=apply,
            target=segment_price.offer,
            reason=_("Segment price of %(segment)s deleted") % {"segment": segment_price.segment.name},
        )


# -- customer prices --------------------------------------------------------------------------------------------------


def customer_price_set(
    *,
    actor: Actor,
    customer: Customer,
    offer: Offer,
    markup_percent: Decimal | None = None,
    price: Decimal | None = None,
    apply=None,
) -> CustomerPrice:
    """Create or change one customer's price of an offer; it wins over the customer's segment price.
    The customer's subscriptions keep their price unless `apply` says from when (see `catalog_settings_update`)."""
    _rule_check(markup_percent, price)
    with transaction.atomic():
        affected = _subscriptions_priced_by(offer=offer, customer=customer)
        _prices_pin(affected)
        row = CustomerPrice.objects.select_for_update().filter(customer=customer, offer=offer).first()
        before = model_snapshot(row, RULE_FIELDS) if row else {}
        if row is None:
            row = CustomerPrice(customer=customer, offer=offer, created_by=actor_user(actor))
        row.markup_percent, row.price = _rule_values(markup_percent, price)
        row.save()
        audit_record(
            actor=actor,
            action=AuditAction.CUSTOMER_PRICE_SET,
            target=offer,
            target_label=f"{customer.name}: {offer}",
            customer_id=customer.pk,
            before=before,
            after=model_snapshot(row, RULE_FIELDS),
        )
        _prices_apply(
            actor=actor,
            subscriptions=affected,
            apply=apply,
            target=offer,
            customer_id=customer.pk,
            reason=_("Customer price of %(customer)s changed") % {"customer": customer.name},
        )
    return row


def customer_price_update(
    *,
    actor: Actor,
    customer_price: CustomerPrice,
    markup_percent: Decimal | None = None,
    price: Decimal | None = None,
    apply=None,
) -> CustomerPrice:
    return customer_price_set(
        actor=actor,
        customer=customer_price.customer,
        offer=customer_price.offer,
        markup_percent=markup_percent,
        price=price,
        apply=apply,
    )


def customer_price_delete(*, actor: Actor, customer_price: CustomerPrice, apply=None) -> None:
    with transaction.atomic():
        affected = _subscriptions_priced_by(offer=customer_price.offer, customer=customer_price.customer)
        _prices_pin(affected)
        audit_record(
            actor=actor,
            action=AuditAction.CUSTOMER_PRICE_DELETE,
            target=customer_price.offer,
            target_label=f"{customer_price.customer.name}: {customer_price.offer}",
            customer_id=customer_price.customer_id,
            before=model_snapshot(customer_price, RULE_FIELDS),
        )
        customer_price.delete()
        _prices_apply(
            actor=actor,
            subscriptions=affected,
            apply=apply,
            target=customer_price.offer,
            customer_id=customer_price.customer_id,
            reason=_("Customer price of %(customer)s deleted") % {"customer": customer_price.customer.name},
        )
