"""The demo partner's ALSO module: an account on the simulator, synced, with connected tenants."""

from django.test import override_settings

from demo import customers as customers_demo
from demo import marketplace as marketplace_demo
from marketplace.choices import AccountStatus, SyncStatus
from marketplace.models import MarketplaceAccount, SyncRun, TenantConnection
from subscriptions.models import Subscription


@override_settings(ALSO_SIMULATOR_URL="")
def test_the_demo_has_a_synced_also_account_with_connected_tenants(in_alpha):
    customers_demo.seed(in_alpha)

    lines = marketplace_demo.seed(in_alpha)

    account = MarketplaceAccount.objects.get(marketplace="also")
    assert account.username == "demo@also.example" and account.region == "de"
    assert account.status == AccountStatus.ACTIVE
    connected = TenantConnection.objects.filter(account=account)
    domains = set(connected.values_list("customer_tenant__primary_domain", flat=True))
    assert {"contoso.onmicrosoft.com", "fabrikam.onmicrosoft.com"} <= domains
    assert connected.count() >= 4
    assert (
        Subscription.objects.filter(account=account, customer_tenant__primary_domain="contoso.onmicrosoft.com").count()
        == 2
    )
    assert SyncRun.objects.filter(account=account).latest("created").status == SyncStatus.SUCCEEDED
    assert "in-process ALSO simulator" in lines[0] and "succeeded" in lines[0]

    again = marketplace_demo.seed(in_alpha)

    assert MarketplaceAccount.objects.filter(marketplace="also").count() == 1
    assert TenantConnection.objects.filter(account=account).count() == connected.count()
    latest = SyncRun.objects.filter(account=account).latest("created")
    # a new in-process simulator dates its demo subscriptions from its own "now": nothing else changes
    assert latest.status == SyncStatus.SUCCEEDED and latest.counts["subscriptions"]["created"] == 0
    assert "succeeded" in again[0]
