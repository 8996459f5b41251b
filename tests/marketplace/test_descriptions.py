"""One description per marketplace: the registry, the model choices and the provider classes agree with it."""

import pytest
from django.utils import translation

from marketplace.choices import MarketplaceSlug
from marketplace.providers.base import Capability
from marketplace.providers.description import Text, capability_label
from marketplace.providers.registry import (
    UnknownMarketplace,
    available_slugs,
    marketplace_description,
    marketplaces,
    provider_class,
    region_label,
)


def test_the_registry_lists_every_provider_package_in_screen_order():
    assert list(marketplaces()) == ["also", "partner_center", "cloudmore", "alef"]
    assert available_slugs() == ("alef", "also", "cloudmore", "partner_center")


def test_the_model_choices_are_the_descriptions():
    assert MarketplaceSlug.choices == [(description.slug, description.name) for description in marketplaces().values()]


@pytest.mark.parametrize("slug", available_slugs())
def test_the_provider_class_takes_its_facts_from_the_description(slug):
    description = marketplace_description(slug)
    provider = provider_class(slug)
    assert provider.description is description
    assert provider.slug == slug and description.package == f"marketplace.providers.{slug}"
    assert provider.display_name == description.display_name
    assert provider.capabilities == description.capabilities
    assert provider.capability_rules == description.capability_rules


def test_an_unknown_marketplace_is_refused_by_name():
    with pytest.raises(UnknownMarketplace, match="nowhere"):
        provider_class("nowhere")
    assert region_label("nowhere", "xx") == "xx"


def test_labels_are_translated_when_shown():
    assert str(marketplace_description("partner_center").region_label) == "Market"
    with translation.override("de"):
        assert region_label("also", "de") == "Deutschland"
        assert str(capability_label(Capability.SUSPEND)) != "Suspend"
    assert region_label("alef", "acme") == "acme"  # a free-text region shows as entered
    # a text is its English self for comparing and searching, and translated only when shown
    assert Text("Market") == "Market" and "Mark" in Text("Market")
    with translation.override("de"):
        assert str(Text("Suspend")) == "Aussetzen" and f"{Text('Suspend')}" == "Aussetzen"
