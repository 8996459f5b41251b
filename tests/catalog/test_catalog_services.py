"""Catalog writes: structure, classification, visibility, segments and customer prices, each audited."""

from decimal import Decimal

import pytest

from catalog.choices import Eligibility
from catalog.classification import eligibility_guess, product_family
from catalog.models import (
    CatalogSettings,
    Category,
    CustomerPrice,
    Offer,
    ProductGroup,
    SegmentMembership,
    SegmentPrice,
)
from catalog.pricing import price_resolve
from catalog.services import (
    CatalogActionRefused,
    catalog_settings_update,
    category_create,
    category_delete,
    category_update,
    customer_price_delete,
    customer_price_set,
    default_categories_ensure,
    offer_customize,
    offers_classify,
    offers_visibility_set,
    product_group_create,
    product_group_update,
    segment_create,
    segment_delete,
    segment_member_add,
    segment_member_remove,
    segment_price_delete,
    segment_price_set,
    segment_update,
)
from portal.audit.models import AuditEvent
from tests.factories import UserFactory
from tests.factories.catalog import OfferFactory, ProductGroupFactory, SegmentFactory
from tests.factories.customers import CustomerFactory

pytestmark = pytest.mark.usefixtures("in_alpha")


@pytest.fixture
def actor():
    return UserFactory(username="catalog-manager")


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))


@pytest.mark.parametrize(
    ("name", "vendor", "group", "category"),
    [
        ("Microsoft 365 Business Premium (NCE)", "Microsoft", "Microsoft 365", "productivity"),
        ("Microsoft 365 Copilot", "Microsoft", "Microsoft Copilot", "productivity"),
        ("Microsoft Teams Phone Standard (NCE add-on)", "Microsoft", "Microsoft Teams", "productivity"),
        ("Exchange Online Archiving", "", "Exchange Online", "productivity"),
        ("Dynamics 365 Sales Enterprise", "Microsoft", "Dynamics 365", "business-applications"),
        ("Microsoft Defender for Endpoint P2", "Microsoft", "Microsoft Defender", "security"),
        ("Azure plan", "Microsoft", "Azure", "infrastructure"),
        ("Acronis Cyber Protect Cloud", "Acronis", "Acronis", "other"),
        ("Microsoft Organization tenant", "Microsoft", "Other Microsoft products", "other"),
    ],
)
def test_product_families(name, vendor, group, category):
    found, default = product_family(name=name, vendor=vendor)
    assert (found, default.slug) == (group, category)


def test_eligibility_from_the_marketplace_name():
    assert eligibility_guess(name="Microsoft 365 A3 for faculty") == Eligibility.ACADEMIC
    assert eligibility_guess(name="Microsoft 365 E3 (Government Pricing)") == Eligibility.GOVERNMENT
    assert eligibility_guess(name="Microsoft 365 Business Premium (Nonprofit Staff Pricing)") == Eligibility.NON_PROFIT
    assert eligibility_guess(name="Microsoft 365 E3") == Eligibility.EVERYONE


def test_classification_places_new_offers_once_and_keeps_the_partners_choices(actor):
    e3 = OfferFactory(name="Microsoft 365 E3 (NCE)")
    faculty = OfferFactory(name="Microsoft 365 A3 for faculty", account=e3.account)
    archiving = OfferFactory(name="Exchange Online Archiving (NCE add-on)", account=e3.account)

    assert offers_classify(actor=actor, account=e3.account) == 3

    e3.refresh_from_db()
    faculty.refresh_from_db()
    archiving.refresh_from_db()
    assert e3.product_group == faculty.product_group
    assert e3.product_group.name == "Microsoft 365"
    assert e3.product_group.category.name == "Productivity and collaboration"
    assert archiving.product_group.name == "Exchange Online"
    assert faculty.eligibility == Eligibility.ACADEMIC and e3.eligibility == ""
    assert actions() == ["catalog.offers_classify"]

    # the partner moves an offer; a later run (after the next sync) leaves it where it is
    other = ProductGroupFactory(name="Suites")
    offer_customize(actor=actor, offer=e3, is_visible=True, eligibility="", product_group=other)
    newcomer = OfferFactory(name="Microsoft 365 E5", account=e3.account)
    assert offers_classify(actor=None) == 1
    e3.refresh_from_db()
    newcomer.refresh_from_db()
    assert e3.product_group == other
    assert newcomer.product_group == faculty.product_group
    assert ProductGroup.objects.filter(name__iexact="microsoft 365").count() == 1
    assert offers_classify(actor=None) == 0


def test_default_categories_are_created_once():
    first = default_categories_ensure()
    second = default_categories_ensure()
    assert [c.pk for c in first] == [c.pk for c in second]
    assert Category.objects.count() == 5


def test_the_default_markup_is_audited_and_changes_prices(actor):
    offer = OfferFactory(cost_price=Decimal("10.00"))
    catalog_settings_update(actor=actor, default_markup_percent=Decimal("8"))
    assert CatalogSettings.objects.get().default_markup_percent == Decimal("8.00")
    assert price_resolve(offer=offer).amount == Decimal("10.80")
    catalog_settings_update(actor=actor, default_markup_percent=Decimal("5"))
    assert CatalogSettings.objects.count() == 1
    event = AuditEvent.objects.filter(action="catalog.default_markup_update").latest("pk")
    assert event.before == {"default_markup_percent": "8.00"} and event.after == {"default_markup_percent": "5.00"}
    with pytest.raises(CatalogActionRefused):
        catalog_settings_update(actor=actor, default_markup_percent=Decimal("-100"))


def test_categories_and_groups_have_unique_names(actor):
    category = category_create(actor=actor, name="Security")
    with pytest.raises(CatalogActionRefused) as refused:
        category_create(actor=actor, name=" security ")
    assert refused.value.field == "name"
    category_update(actor=actor, category=category, name="Security and identity", position=5)
    group = product_group_create(actor=actor, name="Defender", category=category)
    with pytest.raises(CatalogActionRefused):
        product_group_create(actor=actor, name="DEFENDER", category=None)
    product_group_update(actor=actor, group=group, name="Defender", category=category, is_visible=False)
    category_delete(actor=actor, category=category)
    group.refresh_from_db()
    assert group.category is None and group.is_visible is False
    assert actions() == [
        "catalog.category_create",
        "catalog.category_update",
        "catalog.product_group_create",
        "catalog.product_group_update",
        "catalog.category_delete",
    ]


def test_visibility_and_eligibility_leave_the_synced_columns_alone(actor):
    offer = OfferFactory(sync_fingerprint="abc")
    updated = Offer.objects.get(pk=offer.pk).updated
    offer_customize(actor=actor, offer=offer, is_visible=False, eligibility=Eligibility.GOVERNMENT, product_group=None)
    offer.refresh_from_db()
    assert (offer.is_visible, offer.eligibility, offer.sync_fingerprint) == (False, "government", "abc")
    assert offer.updated == updated
    with pytest.raises(CatalogActionRefused):
        offer_customize(actor=actor, offer=offer, is_visible=True, eligibility="martians", product_group=None)


def test_bulk_visibility_counts_what_changed(actor):
    offers = OfferFactory.create_batch(3)
    assert offers_visibility_set(actor=actor, offer_ids=[o.pk for o in offers[:2]], is_visible=False) == 2
    assert offers_visibility_set(actor=actor, offer_ids=[o.pk for o in offers], is_visible=False) == 1
    assert Offer.objects.filter(is_visible=False).count() == 3
    assert actions().count("catalog.offer_customize") == 3


def test_segments_members_and_prices(actor):
    segment = segment_create(actor=actor, name="Education")
    with pytest.raises(CatalogActionRefused):
        segment_create(actor=actor, name="education")
    segment_update(actor=actor, segment=segment, name="Education", description="Schools")
    customer = CustomerFactory(name="Contoso School")
    membership = segment_member_add(actor=actor, segment=segment, customer=customer)
    with pytest.raises(CatalogActionRefused, match="already in this segment"):
        segment_member_add(actor=actor, segment=segment, customer=customer)
    with pytest.raises(CatalogActionRefused, match="is in segment Education"):
        segment_member_add(actor=actor, segment=SegmentFactory(name="Partners"), customer=customer)

    offer = OfferFactory(cost_price=Decimal("20.00"))
    segment_price_set(actor=actor, segment=segment, offer=offer, markup_percent=Decimal("2"))
    assert price_resolve(offer=offer, customer=customer).amount == Decimal("20.40")
    row = segment_price_set(actor=actor, segment=segment, offer=offer, price=Decimal("19.99"))
    assert SegmentPrice.objects.count() == 1 and row.markup_percent is None
    assert price_resolve(offer=offer, customer=customer).amount == Decimal("19.99")
    with pytest.raises(CatalogActionRefused):
        segment_price_set(actor=actor, segment=segment, offer=offer, markup_percent=Decimal("1"), price=Decimal("1"))
    with pytest.raises(CatalogActionRefused):
        segment_price_set(actor=actor, segment=segment, offer=offer)

    segment_price_delete(actor=actor, segment_price=row)
    segment_member_remove(actor=actor, membership=membership)
    assert not SegmentMembership.objects.exists()
    segment_delete(actor=actor, segment=segment)
    assert price_resolve(offer=offer, customer=customer).amount == Decimal("21.00")
    member_events = AuditEvent.objects.filter(action__startswith="catalog.segment_member")
    assert set(member_events.values_list("customer_id", flat=True)) == {customer.pk}


def test_customer_prices(actor):
    customer = CustomerFactory()
    offer = OfferFactory(cost_price=Decimal("20.00"))
    row = customer_price_set(actor=actor, customer=customer, offer=offer, markup_percent=Decimal("12.5"))
    assert price_resolve(offer=offer, customer=customer).amount == Decimal("22.50")
    customer_price_set(actor=actor, customer=customer, offer=offer, price=Decimal("18"))
    assert CustomerPrice.objects.get().price == Decimal("18.0000")
    with pytest.raises(CatalogActionRefused):
        customer_price_set(actor=actor, customer=customer, offer=offer, price=Decimal("-1"))
    with pytest.raises(CatalogActionRefused):
        customer_price_set(actor=actor, customer=customer, offer=offer, markup_percent=Decimal("-100"))
    event = AuditEvent.objects.filter(action="catalog.customer_price_set").latest("pk")
    assert event.customer_id == customer.pk and event.target_id == str(offer.pk)
    assert event.before == {"markup_percent": "12.50", "price": None}
    assert event.after == {"markup_percent": None, "price": "18.0000"}
    customer_price_delete(actor=actor, customer_price=CustomerPrice.objects.get(pk=row.pk))
    assert not CustomerPrice.objects.exists()
