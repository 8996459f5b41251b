"""ALSO Cloud Marketplace ("SimpleAPI"): wire client, adapter to the provider protocol, simulator."""

from types import MappingProxyType

from marketplace.providers.base import Capability
from marketplace.providers.description import CommitmentRules, MarketplaceDescription
from marketplace.providers.description import Text as _

_REGIONS = (
    ("at", _("Austria")),
    ("dk", _("Denmark")),
    ("ee", _("Estonia")),
    ("fi", _("Finland")),
    ("fr", _("France")),
    ("de", _("Germany")),
    ("lv", _("Latvia")),
    ("lt", _("Lithuania")),
    ("nl", _("Netherlands")),
    ("no", _("Norway")),
    ("pl", _("Poland")),
    ("si", _("Slovenia")),
    ("se", _("Sweden")),
    ("ch", _("Switzerland")),
    ("test", _("ALSO test marketplace")),
)

DESCRIPTION = MarketplaceDescription(
    slug="also",
    name="ALSO",
    display_name="ALSO Cloud Marketplace",
    provider=f"{__name__}.adapter.AlsoProvider",
    capabilities=frozenset(
        {
            Capability.LIST_CUSTOMERS,
            Capability.LIST_OFFERS,
            Capability.LIST_SUBSCRIPTIONS,
            Capability.CREATE_CUSTOMER,
            Capability.PLACE_ORDER,
            Capability.CHANGE_QUANTITY,
            Capability.TERMINATE,
            Capability.REVOKE_TERMINATION,
            Capability.CHANGE_BILLING_CYCLE,
            Capability.ADD_ADD_ON,
            Capability.CHANGE_ADD_ON,
            Capability.REMOVE_ADD_ON,
            Capability.LIST_INVOICE_LINES,
            Capability.READ_CREDIT_LIMIT,
            Capability.CREATE_TENANT,
        }
    ),
    capability_rules=MappingProxyType(
        {
            Capability.CREATE_TENANT: _(
                "A company, then ALSO's Microsoft tenant product ordered under it with the domain and the first "
                "admin as its primary contact; the domain is validated first. Needs the company's complete address."
            ),
            Capability.PLACE_ORDER: _(
                "ALSO has no idempotency key: the order line's key is sent as the purchase order number, "
                "and a retry first looks for a subscription carrying it."
            ),
            Capability.CHANGE_QUANTITY: _(
                "Increase any time; NCE subscriptions can only be decreased within 7 days (168 hours) "
                "of purchase or renewal."
            ),
            Capability.TERMINATE: _(
                "Inside the 7-day cancellation window an NCE subscription ends at once; after it, "
                "the termination is scheduled for the end of the term."
            ),
            Capability.REVOKE_TERMINATION: _(
                "Only a scheduled termination can be revoked, before the end of the term."
            ),
            Capability.CHANGE_BILLING_CYCLE: _(
                "Takes effect at the next renewal, keeping the same term; ALSO applies it at the contract end date."
            ),
            Capability.REMOVE_ADD_ON: _(
                "Follows the termination rule: after 7 days the removal is scheduled for the end of the term."
            ),
            Capability.READ_CREDIT_LIMIT: _(
                "ALSO's credit limit on the reseller account (GetCreditLimit); what remains is the limit minus "
                "the current month's charges."
            ),
            Capability.LIST_INVOICE_LINES: _(
                "ALSO invoices per calendar month (GetLatestInvoicesForPeriod); a period reads every month it "
                "touches and keeps the charges that start inside it."
            ),
        }
    ),
    commitment=CommitmentRules(quantity_change_while_suspended=True, termination_ends_with_term=True),
    regions=_REGIONS,
    customer_word=_("ALSO customer"),
    description=_("ALSO Cloud Marketplace: Microsoft 365 and cloud services through ALSO's country marketplaces."),
    username_help=_(
        "The user at the marketplace. Multi-factor authentication must be off for it, and it needs the roles "
        "Reseller Admin (Limited), Reseller Admin (Sales), Customer Admin (Read-only), Customer Admin (Modify) "
        "and Customer Admin (Advanced)."
    ),
)
