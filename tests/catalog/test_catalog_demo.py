"""The demo partner's catalog: the synced offers sorted, a segment, customer prices, hidden legacy plans."""

from django.test import override_settings

from catalog.models import CatalogSettings, CustomerPrice, CustomerSegment, Offer, ProductGroup
from demo import catalog as catalog_demo
from demo import customers as customers_demo
from demo import marketplace as marketplace_demo
from portal.audit.models import AuditEvent


@override_settings(ALSO_SIMULATOR_URL="")
def test_the_demo_catalog(in_alpha):
    customers_demo.seed(in_alpha)
    marketplace_demo.seed(in_alpha)
    # the sync sorted the new offers into product groups already
    assert not Offer.objects.filter(product_group__isnull=True).exists()
    assert AuditEvent.objects.filter(action="catalog.offers_classify").exists()

    lines = catalog_demo.seed(in_alpha)

    assert ProductGroup.objects.filter(name="Microsoft 365", category__slug="productivity").exists()
    assert not Offer.objects.filter(name__icontains="legacy", is_visible=True).exists()
    segment = CustomerSegment.objects.get(name="Education")
    assert segment.memberships.exists() and segment.prices.count() == 3
    assert CustomerPrice.objects.count() == 2
    assert CatalogSettings.objects.get().default_markup_percent == 5
    assert "segment Education" in lines[0]

    events = AuditEvent.objects.count()
    again = catalog_demo.seed(in_alpha)
    assert AuditEvent.objects.count() == events  # nothing left to do
    assert "(0 newly sorted into product groups, 0 hidden from customers)" in again[0]
