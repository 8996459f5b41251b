"""What a customer may buy, and the catalog tree."""

import pytest

from catalog.choices import Eligibility
from catalog.selectors import (
    catalog_tree,
    offer_family,
    offer_is_orderable_by,
    offers_in,
    offers_orderable_by,
    offers_visible,
)
from tests.factories.catalog import CategoryFactory, OfferFactory, ProductGroupFactory
from tests.factories.customers import CustomerFactory, CustomerTenantFactory
from tests.factories.marketplace import AccountFactory, connect

pytestmark = pytest.mark.usefixtures("in_alpha")


@pytest.fixture
def shop():
    """A customer whose tenant is connected through `account`; `elsewhere` is an account it is not connected to."""
    account = AccountFactory()
    tenant = CustomerTenantFactory()
    connect(account, tenant)
    return {"account": account, "tenant": tenant, "customer": tenant.customer, "elsewhere": AccountFactory()}


def orderable(customer, **kwargs) -> set[str]:
    return set(offers_orderable_by(customer=customer, **kwargs).values_list("name", flat=True))


def test_only_offers_of_connected_accounts(shop):
    OfferFactory(name="Here", account=shop["account"])
    OfferFactory(name="Elsewhere", account=shop["elsewhere"])
    assert orderable(shop["customer"]) == {"Here"}
    assert orderable(CustomerFactory()) == set()


def test_hidden_unavailable_and_hidden_groups_are_not_orderable(shop):
    hidden_group = ProductGroupFactory(is_visible=False)
    OfferFactory(name="Shown", account=shop["account"])
    OfferFactory(name="Hidden", account=shop["account"], is_visible=False)
    OfferFactory(name="Gone", account=shop["account"], is_available=False)
    OfferFactory(name="In hidden group", account=shop["account"], product_group=hidden_group)
    assert orderable(shop["customer"]) == {"Shown"}


def test_eligibility_needs_the_customers_flag(shop):
    for eligibility in Eligibility.values:
        OfferFactory(name=eligibility or "everyone", account=shop["account"], eligibility=eligibility)
    customer = shop["customer"]
    assert orderable(customer) == {"everyone"}
    customer.is_academic = True
    assert orderable(customer) == {"everyone", "academic"}
    customer.is_academic, customer.is_government, customer.is_non_profit = False, True, True
    assert orderable(customer) == {"everyone", "government", "non_profit"}


def test_a_tenant_buys_at_its_own_marketplace(shop):
    other_tenant = CustomerTenantFactory(customer=shop["customer"])
    connect(shop["elsewhere"], other_tenant)
    here = OfferFactory(name="Here", account=shop["account"])
    OfferFactory(name="Elsewhere", account=shop["elsewhere"])
    OfferFactory(name="Add-on", account=shop["account"], is_add_on=True, parent_product_ids=[here.product_id])
    assert orderable(shop["customer"]) == {"Here", "Elsewhere", "Add-on"}
    assert orderable(shop["customer"], tenant=shop["tenant"]) == {"Here", "Add-on"}
    assert orderable(shop["customer"], tenant=shop["tenant"], include_add_ons=False) == {"Here"}
    assert offer_is_orderable_by(offer=here, customer=shop["customer"], tenant=shop["tenant"])
    assert not offer_is_orderable_by(offer=here, customer=shop["customer"], tenant=other_tenant)


def test_orderable_offers_are_one_query(shop, django_assert_num_queries):
    OfferFactory.create_batch(5, account=shop["account"])
    with django_assert_num_queries(2):  # SET search_path + the query
        assert len(list(offers_orderable_by(customer=shop["customer"]))) == 5


def test_the_tree_counts_offers_per_group_and_category(django_assert_max_num_queries):
    productivity = CategoryFactory(name="Productivity", position=1)
    security = CategoryFactory(name="Security", position=2)
    suites = ProductGroupFactory(name="Microsoft 365", category=productivity)
    mail = ProductGroupFactory(name="Exchange Online", category=productivity)
    loose = ProductGroupFactory(name="Loose", category=None)
    ProductGroupFactory(name="Empty", category=security)
    OfferFactory.create_batch(3, product_group=suites)
    OfferFactory(product_group=mail)
    OfferFactory(product_group=loose)
    OfferFactory(product_group=None)
    with django_assert_max_num_queries(6):
        tree = catalog_tree(offers=offers_visible())
    assert [(node.name, node.count) for node in tree] == [("Productivity", 4), ("Other", 2)]
    assert [(group.name, group.count) for group in tree[0].groups] == [("Exchange Online", 1), ("Microsoft 365", 3)]
    assert [group.name for group in tree[1].groups] == ["Loose", "Not sorted yet"]
    full = catalog_tree(offers=offers_visible(), include_empty=True)
    assert [node.name for node in full] == ["Productivity", "Security", "Other"]
    assert offers_in(offers_visible(), category="none").count() == 2
    assert offers_in(offers_visible(), group="none").count() == 1
    assert offers_in(offers_visible(), category=str(productivity.pk)).count() == 4


def test_an_offers_family():
    base = OfferFactory(product_id="M365E3", billing_cycle="monthly")
    annual = OfferFactory(product_id="M365E3", billing_cycle="annual", account=base.account)
    add_on = OfferFactory(product_id="PHONE", is_add_on=True, parent_product_ids=["M365E3"], account=base.account)
    OfferFactory(product_id="M365E3", billing_cycle="annual")  # another account's
    family = offer_family(offer=base)
    assert {plan.pk for plan in family.plans} == {base.pk, annual.pk}
    assert family.add_ons == [add_on] and family.required == []
    assert {offer.pk for offer in offer_family(offer=add_on).required} == {base.pk, annual.pk}
