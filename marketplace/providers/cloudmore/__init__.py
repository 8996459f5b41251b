"""Cloudmore: a cloud service broker platform reselling Microsoft CSP (NCE) among other services."""

from types import MappingProxyType

from marketplace.providers.base import Capability
from marketplace.providers.description import AccountOption, CommitmentRules, MarketplaceDescription
from marketplace.providers.description import Text as _

_REGIONS = (
    ("eu", _("Cloudmore (api.cloudmore.com)")),
    ("dev", _("Cloudmore developer sandbox")),
)

_SEGMENTS = (
    ("commercial", _("Commercial")),
    ("education", _("Education")),
    ("charity", _("Charity")),
    ("government", _("Government")),
)

DESCRIPTION = MarketplaceDescription(
    slug="cloudmore",
    name="Cloudmore",
    display_name="Cloudmore",
    provider=f"{__name__}.adapter.CloudmoreProvider",
    capabilities=frozenset(
        {
            Capability.LIST_CUSTOMERS,
            Capability.LIST_OFFERS,
            Capability.LIST_SUBSCRIPTIONS,
            Capability.CREATE_CUSTOMER,
            Capability.PLACE_ORDER,
            Capability.CHANGE_QUANTITY,
            Capability.SUSPEND,
            Capability.REACTIVATE,
            Capability.TERMINATE,
            Capability.REVOKE_TERMINATION,
            Capability.ADD_ADD_ON,
            Capability.CHANGE_ADD_ON,
            Capability.REMOVE_ADD_ON,
            Capability.CREATE_TENANT,
            Capability.LIST_INVOICE_LINES,
        }
    ),
    capability_rules=MappingProxyType(
        {
            Capability.PLACE_ORDER: _(
                "The customer needs the O365 CSP Direct service (a Microsoft tenant) first. Cloudmore has no "
                "idempotency key: the order line's key is the purchase order number, looked for before buying."
            ),
            Capability.CHANGE_QUANTITY: _(
                "Increase any time; licences can only be decreased within 7 days (168 hours) of their purchase "
                "or renewal, and not while the subscription is suspended."
            ),
            Capability.SUSPEND: _("Suspends the add-ons with their base subscription; Microsoft keeps billing."),
            Capability.REACTIVATE: _("An add-on can only be reactivated while its base subscription is active."),
            Capability.TERMINATE: _(
                "Inside the 7-day cancellation window the subscription ends at once; after it, auto-renew is "
                "turned off and it ends with its term."
            ),
            Capability.REVOKE_TERMINATION: _("Turns auto-renew back on, until the term has ended."),
            Capability.CHANGE_BILLING_CYCLE: _(
                "Not offered: Cloudmore fixes an NCE subscription's billing frequency for the whole term."
            ),
            Capability.REMOVE_ADD_ON: _(
                "Follows the termination rule: after 7 days the add-on ends with its term instead of at once."
            ),
            Capability.CREATE_TENANT: _(
                "Needs the organization's complete address and an available onmicrosoft.com domain; the admin "
                "user's credentials are emailed to the contact. No charge until a subscription is bought."
            ),
            Capability.LIST_INVOICE_LINES: _(
                "From the monthly billing report (MonthlyBillingPerOrganizationAsync) at the reseller's cost "
                "prices, one report per month the period touches."
            ),
        }
    ),
    commitment=CommitmentRules(quantity_change_while_suspended=False, termination_ends_with_term=True),
    regions=_REGIONS,
    customer_word=_("Cloudmore organization"),
    description=_("Cloudmore: Microsoft CSP Direct and cloud services for your organizations."),
    username_label=_("API user"),
    username_help=_("The Cloudmore API user of your reseller."),
    options=(
        AccountOption(name="reseller_id", label=_("Reseller ID"), help_text=_("Your reseller's ID at Cloudmore.")),
        AccountOption(
            name="client_secret",
            label=_("API secret"),
            secret=True,
            help_text=_("The API client secret Cloudmore gave you."),
        ),
        AccountOption(
            name="client_id",
            label=_("API client ID"),
            required=False,
            help_text=_("Leave empty for Cloudmore's default client."),
        ),
        AccountOption(
            name="segment",
            label=_("Price list segment"),
            required=False,
            choices=_SEGMENTS,
        ),
    ),
)
