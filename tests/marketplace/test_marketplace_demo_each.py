"""seed_demo gives the demo partner an account on every marketplace's simulator, synced, with some
tenants connected; seeding again adds nothing."""

from django.test import override_settings

from demo import customers as customers_demo
from demo import marketplace as marketplace_demo
from marketplace.choices import AccountStatus, SyncStatus
from marketplace.models import MarketplaceAccount, MarketplaceCustomer, SyncRun, TenantConnection
from subscriptions.models import Subscription

SLUGS = ("also", "partner_center", "cloudmore", "alef")
NO_SERVERS = {f"{slug.upper()}_SIMULATOR_URL": "" for slug in SLUGS}


@override_settings(**NO_SERVERS)
def test_the_demo_seeds_and_syncs_an_account_on_every_simulator_twice(in_alpha):
    customers_demo.seed(in_alpha)

    lines = marketplace_demo.seed(in_alpha)

    assert len(lines) == 4
    counts = {}
    for slug, line in zip(SLUGS, lines, strict=True):
        account = MarketplaceAccount.objects.get(marketplace=slug)
        assert account.status == AccountStatus.ACTIVE, (slug, account.status_message)
        assert SyncRun.objects.filter(account=account).latest("created").status == SyncStatus.SUCCEEDED
        assert MarketplaceCustomer.objects.filter(account=account).exists()
        connected = TenantConnection.objects.filter(account=account)
        assert connected.exists(), slug
        assert Subscription.objects.filter(account=account).exists(), slug
        assert "in-process" in line and "succeeded" in line, line
        counts[slug] = (connected.count(), Subscription.objects.filter(account=account).count())
    # a tenant buys its demo licences at one marketplace
    for slug in SLUGS[1:]:
        assert counts[slug][0] <= marketplace_demo.OTHER_MARKETPLACE_CONNECTIONS

    again = marketplace_demo.seed(in_alpha)

    assert MarketplaceAccount.objects.count() == 4
    for slug, line in zip(SLUGS, again, strict=True):
        account = MarketplaceAccount.objects.get(marketplace=slug)
        assert TenantConnection.objects.filter(account=account).count() == counts[slug][0]
        assert Subscription.objects.filter(account=account).count() == counts[slug][1]
        assert "succeeded" in line, line
