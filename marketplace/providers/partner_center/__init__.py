"""Microsoft Partner Center (CSP direct): REST v1 client, provider adapter and simulator."""

from types import MappingProxyType

from marketplace.providers.base import Capability
from marketplace.providers.description import AccountOption, CommitmentRules, MarketplaceDescription
from marketplace.providers.description import Text as _

_MARKETS = (
    ("de", _("Germany")),
    ("us", _("United States")),
)

DESCRIPTION = MarketplaceDescription(
    slug="partner_center",
    name="Microsoft Partner Center",
    display_name="Microsoft Partner Center",
    provider=f"{__name__}.adapter.PartnerCenterProvider",
    capabilities=frozenset(
        {
            Capability.LIST_CUSTOMERS,
            Capability.LIST_OFFERS,
            Capability.LIST_SUBSCRIPTIONS,
            Capability.CREATE_CUSTOMER,
            Capability.CREATE_TENANT,
            Capability.PLACE_ORDER,
            Capability.CHANGE_QUANTITY,
            Capability.SUSPEND,
            Capability.REACTIVATE,
            Capability.TERMINATE,
            Capability.REVOKE_TERMINATION,
            Capability.CHANGE_BILLING_CYCLE,
            Capability.ADD_ADD_ON,
            Capability.CHANGE_ADD_ON,
            Capability.REMOVE_ADD_ON,
            Capability.LIST_INVOICE_LINES,
            Capability.LIST_TENANT_LICENCES,
            Capability.LIST_GDAP_RELATIONSHIPS,
        }
    ),
    capability_rules=MappingProxyType(
        {
            Capability.LIST_GDAP_RELATIONSHIPS: _(
                "From Microsoft Graph with the same app (DelegatedAdminRelationship.Read.All in the partner's tenant)."
            ),
            Capability.LIST_TENANT_LICENCES: _(
                "The customer tenant's subscribed SKUs: seats bought (active units) against seats assigned to users."
            ),
            Capability.CREATE_CUSTOMER: _(
                "Creates a new Microsoft tenant <prefix>.onmicrosoft.com; the prefix must not be taken."
            ),
            Capability.CREATE_TENANT: _(
                "Creating a customer creates its Microsoft tenant <prefix>.onmicrosoft.com; Partner Center hands "
                "the first admin's credentials to the partner, who sends them to the customer's contact."
            ),
            Capability.PLACE_ORDER: _(
                "Bought through a cart and checkout carrying an MS-RequestId derived from the line: repeating "
                "the line returns the original order and buys nothing twice. New subscriptions stay pending "
                "until Microsoft has provisioned them."
            ),
            Capability.CHANGE_QUANTITY: _(
                "Increase any time. Seat decreases and cancellation only within 7 days (168 hours) of purchase "
                "or renewal: only seats still inside their own 7-day window can be removed."
            ),
            Capability.SUSPEND: _(
                "Only an active subscription can be suspended; Microsoft keeps billing a suspended NCE "
                "subscription until it is cancelled or its term ends."
            ),
            Capability.REACTIVATE: _("Only a suspended subscription can be reactivated."),
            Capability.TERMINATE: _(
                "Within 7 days (168 hours) of purchase or renewal the subscription is cancelled at once with a "
                "prorated refund; after that auto-renew is turned off and it ends with its term."
            ),
            Capability.REVOKE_TERMINATION: _(
                "Turns auto-renew back on before the term ends; a cancelled subscription cannot be restored."
            ),
            Capability.CHANGE_BILLING_CYCLE: _(
                "Switches between monthly and annual billing within the same term, at once; one-month terms "
                "bill monthly only and trials cannot change."
            ),
            Capability.ADD_ADD_ON: _(
                "The parent subscription must be one of the add-on's prerequisite products; the add-on gets "
                "its own term and 7-day cancellation window."
            ),
            Capability.CHANGE_ADD_ON: _(
                "Increase any time; decreases only within 7 days (168 hours) of purchase or renewal."
            ),
            Capability.REMOVE_ADD_ON: _(
                "Within 7 days (168 hours) of purchase or renewal the add-on is cancelled at once; after that "
                "it stops renewing and ends with its term."
            ),
            Capability.LIST_INVOICE_LINES: _(
                "Reads the NCE billing line items (onetime provider) of every invoice whose billing period "
                "touches the period, and keeps the charges that start inside it."
            ),
        }
    ),
    commitment=CommitmentRules(quantity_change_while_suspended=False, termination_ends_with_term=True),
    regions=_MARKETS,
    customer_word=_("Partner Center customer"),
    description=_("Microsoft Partner Center: sell Microsoft CSP (NCE) subscriptions directly as a CSP partner."),
    region_label=_("Market"),
    username_label=_("Application (client) ID"),
    username_help=_("The Microsoft Entra application registered for Partner Center (App+User)."),
    secret_label=_("Application secret"),
    options=(
        AccountOption(
            name="tenant",
            label=_("Partner tenant"),
            help_text=_("Your partner tenant's ID or primary domain."),
        ),
        AccountOption(
            name="refresh_token",
            label=_("Refresh token"),
            required=False,
            secret=True,
            help_text=_("The App+User refresh token of a Partner Center admin agent, if you use one."),
        ),
    ),
)
