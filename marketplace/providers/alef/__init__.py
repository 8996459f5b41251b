"""ALEF Distribution: a distributor's reseller-scoped CSP platform reselling Microsoft with Partner Center semantics."""

from types import MappingProxyType

from marketplace.providers.base import Capability
from marketplace.providers.description import CommitmentRules, MarketplaceDescription
from marketplace.providers.description import Text as _

DESCRIPTION = MarketplaceDescription(
    slug="alef",
    name="ALEF",
    display_name="ALEF Distribution",
    provider=f"{__name__}.adapter.AlefProvider",
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
            Capability.CHANGE_BILLING_CYCLE,
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
                "Academic, government and non-profit offers only for organizations flagged so; the customer "
                "needs a Microsoft tenant, and orders wait while a new one is being created. A retried order "
                "replays the first answer (MS-RequestId)."
            ),
            Capability.CHANGE_QUANTITY: _(
                "Increase any time; decrease only by licences bought in the last 7 days (168 hours), "
                "not while suspended (Microsoft error 800090 otherwise)."
            ),
            Capability.SUSPEND: _("Suspends the add-ons with their base subscription."),
            Capability.REACTIVATE: _("An add-on can only be reactivated while its base subscription is active."),
            Capability.TERMINATE: _(
                "Inside the 7-day cancellation window the subscription ends at once; after it, auto-renew is "
                "turned off and it ends with its term."
            ),
            Capability.REVOKE_TERMINATION: _("Turns auto-renew back on, until the term has ended."),
            Capability.CHANGE_BILLING_CYCLE: _(
                "Monthly or yearly within the same term, at once; a monthly-term (P1M) offer is billed monthly only."
            ),
            Capability.REMOVE_ADD_ON: _(
                "Follows the termination rule: after 7 days the add-on ends with its term instead of at once."
            ),
            Capability.CREATE_TENANT: _(
                "Asynchronous: Microsoft checks that the onmicrosoft.com domain is unique, which takes minutes; "
                "poll the operation. Needs the organization's complete address."
            ),
        }
    ),
    commitment=CommitmentRules(quantity_change_while_suspended=False, termination_ends_with_term=True),
    customer_word=_("ALEF organization"),
    description=_("ALEF Distribution: Microsoft CSP through ALEF's reseller marketplace."),
    region_label=_("Reseller host"),
    region_help=_("The <name> of your reseller address <name>.alef.cloud."),
)
