from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditResult(models.TextChoices):
    SUCCESS = "success", _("Success")
    FAILURE = "failure", _("Failure")


class NotificationLevel(models.TextChoices):
    INFO = "info", _("Information")
    SUCCESS = "success", _("Success")
    WARNING = "warning", _("Warning")
    ERROR = "error", _("Error")


class NotificationKind(models.TextChoices):
    """What a notification is about: the Notifications page has a tab for each kind that matters."""

    ORDERS = "orders", _("Orders")
    LICENCES = "licences", _("Licences")
    POOLS = "pools", _("Pools")
    OTHER = "other", _("Other")


# A notification's kind follows from the page it links to (longest prefix first).
NOTIFICATION_KIND_BY_PATH = (
    ("/resellers/my-providers/", NotificationKind.POOLS),
    ("/pools/", NotificationKind.POOLS),
    ("/orders/", NotificationKind.ORDERS),
    ("/subscriptions/", NotificationKind.LICENCES),
)


def notification_kind_for_url(url: str) -> str:
    for prefix, kind in NOTIFICATION_KIND_BY_PATH:
        if (url or "").startswith(prefix):
            return kind
    return NotificationKind.OTHER


class AuditAction(models.TextChoices):
    """Every action the audit trail records. The stored values are the trail's history (exports and
    filters read them), so they never change; the member names say NOUN_VERB, whatever shape the
    value has. `audit_record` takes a member, and a test checks that every caller passes one."""

    API_TOKEN_CREATE = "api_token.create", _("API token created")
    API_TOKEN_REVOKE = "api_token.revoke", _("API token revoked")
    TERMS_PUBLISH = "terms.publish", _("Terms and conditions published")
    TERMS_ACCEPT = "terms.accept", _("Terms and conditions accepted")
    AUTHENTICATION_SETTINGS_UPDATE = "authentication_settings.update", _("Sign-in settings changed")
    CATEGORY_CREATE = "catalog.category_create", _("Category created")
    CATEGORY_UPDATE = "catalog.category_update", _("Category changed")
    CATEGORY_DELETE = "catalog.category_delete", _("Category deleted")
    CUSTOMER_PRICE_SET = "catalog.customer_price_set", _("Customer price set")
    CUSTOMER_PRICE_DELETE = "catalog.customer_price_delete", _("Customer price removed")
    DEFAULT_MARKUP_UPDATE = "catalog.default_markup_update", _("Default markup changed")
    OFFER_CUSTOMIZE = "catalog.offer_customize", _("Offer customized")
    OFFERS_CLASSIFY = "catalog.offers_classify", _("Offers classified")
    PRODUCT_GROUP_CREATE = "catalog.product_group_create", _("Product group created")
    PRODUCT_GROUP_UPDATE = "catalog.product_group_update", _("Product group changed")
    SEGMENT_CREATE = "catalog.segment_create", _("Segment created")
    SEGMENT_UPDATE = "catalog.segment_update", _("Segment changed")
    SEGMENT_DELETE = "catalog.segment_delete", _("Segment deleted")
    SEGMENT_MEMBER_ADD = "catalog.segment_member_add", _("Customer added to segment")
    SEGMENT_MEMBER_REMOVE = "catalog.segment_member_remove", _("Customer removed from segment")
    SEGMENT_PRICE_SET = "catalog.segment_price_set", _("Segment price set")
    SEGMENT_PRICE_DELETE = "catalog.segment_price_delete", _("Segment price removed")
    CUSTOMER_CREATE = "customer.create", _("Customer created")
    CUSTOMER_UPDATE = "customer.update", _("Customer changed")
    CUSTOMER_DELETE = "customer.delete", _("Customer deleted")
    CUSTOMER_GROUP_CREATE = "customer_group.create", _("Customer group created")
    CUSTOMER_GROUP_UPDATE = "customer_group.update", _("Customer group changed")
    CUSTOMER_GROUP_DELETE = "customer_group.delete", _("Customer group deleted")
    CUSTOMER_TENANT_ADD = "customer_tenant.add", _("Tenant added to customer")
    CUSTOMER_OWN_ORGANISATION_ADD = "customer.own_organisation_add", _("Own organisation listed among the customers")
    CUSTOMER_OPEN_AS = "customer.open_as", _("Customer's account opened as the customer")
    CUSTOMER_OPEN_AS_LEAVE = "customer.open_as_leave", _("Back from the customer's account")
    CUSTOMER_REGISTRATION_REQUEST = "customer_registration.request", _("Customer registered on the sign-up form")
    CUSTOMER_REGISTRATION_VERIFY = "customer_registration.verify", _("Customer registration's email verified")
    CUSTOMER_REGISTRATION_APPROVE = "customer_registration.approve", _("Customer registration approved")
    CUSTOMER_REGISTRATION_REJECT = "customer_registration.reject", _("Customer registration rejected")
    CUSTOMER_REGISTRATION_SETTINGS_UPDATE = (
        "customer_registration.settings_update",
        _("Customer registration settings changed"),
    )
    CUSTOMER_REGISTRATION_LOCK = "customer_registration.lock", _("Customer registrations locked")
    CUSTOMER_TENANT_CREATE = "customer_tenant.create", _("Microsoft tenant created for customer")
    CUSTOMER_TENANT_REMOVE = "customer_tenant.remove", _("Tenant removed from customer")
    CUSTOMER_TENANT_CONSENT_START = "customer_tenant.consent_start", _("Tenant consent requested")
    CUSTOMER_TENANT_CONSENT = "customer_tenant.consent", _("Tenant consent given")
    CUSTOMER_TENANT_LICENSE_SETTINGS_UPDATE = "customer_tenant.license_settings", _("Tenant licence settings changed")
    LICENSE_REQUEST_CREATE = "license_request.create", _("Licence request created")
    LICENSE_REQUEST_APPROVE = "license_request.approve", _("Licence request approved")
    LICENSE_REQUEST_REJECT = "license_request.reject", _("Licence request rejected")
    LICENSE_REQUEST_APPLY = "license_request.apply", _("Licence request applied")
    LICENSE_REQUEST_FAIL = "license_request.fail", _("Licence request failed")
    MARKETPLACE_ACCOUNT_CREATE = "marketplace.account.create", _("Marketplace account created")
    MARKETPLACE_ACCOUNT_UPDATE = "marketplace.account.update", _("Marketplace account changed")
    MARKETPLACE_ACCOUNT_DELETE = "marketplace.account.delete", _("Marketplace account deleted")
    MARKETPLACE_ACCOUNT_ROTATE_SECRETS = (
        "marketplace.account.rotate_secrets",
        _("Marketplace account secrets re-encrypted"),
    )
    MARKETPLACE_ACCOUNT_SYNC = "marketplace.account.sync", _("Marketplace account synchronized")
    MARKETPLACE_ACCOUNT_SYNC_REQUEST = "marketplace.account.sync_request", _("Marketplace sync requested")
    MARKETPLACE_PRICE_CREATE = "marketplace.price.create", _("Marketplace price added")
    MARKETPLACE_PRICE_UPDATE = "marketplace.price.update", _("Marketplace price changed")
    MARKETPLACE_PRICE_DELETE = "marketplace.price.delete", _("Marketplace price deleted")
    MARKETPLACE_TENANT_ADD = "marketplace.tenant.add", _("Marketplace tenant added")
    MARKETPLACE_TENANT_CONNECT = "marketplace.tenant.connect", _("Marketplace tenant connected")
    MARKETPLACE_TENANT_CONNECTION_EDIT = (
        "marketplace.tenant.connection_edit",
        _("Marketplace tenant connection changed"),
    )
    MARKETPLACE_TENANT_DISCONNECT = "marketplace.tenant.disconnect", _("Marketplace tenant disconnected")
    MARKETPLACE_TENANT_REMOVE = "marketplace.tenant.remove", _("Marketplace tenant removed")
    MICROSOFT_IDENTITY_LINK = "microsoft_identity.link", _("Microsoft account linked")
    MICROSOFT_IDENTITY_UNLINK = "microsoft_identity.unlink", _("Microsoft account unlinked")
    ORDER_CART_ADD = "order.cart_add", _("Added to cart")
    ORDER_CREATE = "order.create", _("Order created")
    ORDER_UPDATE = "order.update", _("Order changed")
    ORDER_REPRICE = "order.reprice", _("Order repriced")
    ORDER_SUBMIT = "order.submit", _("Order submitted")
    ORDER_DISCARD = "order.discard", _("Order discarded")
    ORDER_CANCEL = "order.cancel", _("Order cancelled")
    ORDER_COMPLETE = "order.complete", _("Order completed")
    ORDER_FAIL = "order.fail", _("Order failed")
    ORDER_LINE_REMOVE = "order.line_remove", _("Order line removed")
    ORDER_LINE_RETRY = "order.line_retry", _("Order line retried")
    ORDER_LINE_APPLY = "order.line.apply", _("Order line applied")
    ORDER_LINE_FAIL = "order.line.fail", _("Order line failed")
    FEEDBACK_SUBMIT = "feedback.submit", _("Feedback submitted")
    FEEDBACK_STATUS_SET = "feedback.status_set", _("Feedback status changed")
    FEEDBACK_REPLY = "feedback.reply", _("Feedback answered")
    PARTNER_LOCALE_UPDATE = "partner.locale_update", _("Language and region changed")
    PARTNER_SIGN_UP = "partner.sign_up", _("Partner signed up")
    POOL_CREATE = "pool.create", _("Licence pool created")
    POOL_UPDATE = "pool.update", _("Licence pool changed")
    POOL_EXPIRE = "pool.expire", _("Licence pool expired")
    POOL_ALLOCATION_CREATE = "pool.allocation_create", _("Pool allocation created")
    POOL_ALLOCATION_UPDATE = "pool.allocation_update", _("Pool allocation changed")
    POOL_ALLOCATION_ACCEPT = "pool.allocation_accept", _("Pool allocation accepted")
    POOL_ALLOCATION_DECLINE = "pool.allocation_decline", _("Pool allocation declined")
    POOL_ALLOCATION_RETURN = "pool.allocation_return", _("Pool allocation returned")
    POOL_ALLOCATION_EXPIRE = "pool.allocation_expire", _("Pool allocation expired")
    POOL_ASSIGNMENT_CREATE = "pool_assignment.create", _("Pool assignment created")
    POOL_ASSIGNMENT_SUPERSEDE = "pool_assignment.supersede", _("Pool assignment superseded")
    POOL_ASSIGNMENT_END = "pool_assignment.end", _("Pool assignment ended")
    POOL_ASSIGNMENT_CAP_EXPIRY = "pool_assignment.cap_expiry", _("Pool assignment end date capped")
    POOL_ASSIGNMENT_EXPIRE = "pool_assignment.expire", _("Pool assignment expired")
    QUOTE_CREATE = "quote.create", _("Quote created")
    QUOTE_ACCEPT = "quote.accept", _("Quote accepted")
    QUOTE_WITHDRAW = "quote.withdraw", _("Quote withdrawn")
    BILLING_CYCLE_CLOSE = "reports.billing_cycle.close", _("Billing statement issued")
    BILLING_DAY_SET = "reports.billing_day.set", _("Billing day set")
    BILLING_DAY_CLEAR = "reports.billing_day.clear", _("Billing day cleared")
    INVOICES_FETCH = "reports.invoices.fetch", _("Invoices fetched")
    SAVED_REPORT_CREATE = "reports.saved_report.create", _("Report saved")
    SAVED_REPORT_DELETE = "reports.saved_report.delete", _("Saved report deleted")
    TROUBLESHOOTING_ADDRESS_ADD = "troubleshooting.address_add", _("Troubleshooting address added")
    TROUBLESHOOTING_ADDRESS_REMOVE = "troubleshooting.address_remove", _("Troubleshooting address removed")
    RESELLER_INVITE = "reseller.invite", _("Reseller invited")
    RESELLER_INVITE_BY_EMAIL = "reseller.invite_by_email", _("Reseller invited by email")
    RESELLER_BATCH_INVITE = "reseller.batch_invite", _("Resellers invited from a file")
    RESELLER_MAP = "reseller.map", _("Reseller mapped")
    RESELLER_DELETE = "reseller.delete", _("Reseller deleted")
    RESELLER_CUSTOMER_VISIBILITY_SET = "reseller.customer_visibility", _("Reseller customer visibility changed")
    RESELLER_INVITATION_ACCEPT = "reseller.invitation_accept", _("Reseller invitation accepted")
    RESELLER_INVITATION_DECLINE = "reseller.invitation_decline", _("Reseller invitation declined")
    RESELLER_INVITATION_SIGN_UP = "reseller.invitation_sign_up", _("Reseller signed up from an invitation")
    ROLE_CREATE = "role.create", _("Role created")
    ROLE_UPDATE = "role.update", _("Role changed")
    ROLE_DELETE = "role.delete", _("Role deleted")
    SUBSCRIPTION_QUANTITY_CHANGE = "subscription.quantity_change", _("Licence quantity changed")
    SUBSCRIPTION_DECREASE_SCHEDULE = "subscription.decrease_scheduled", _("Licence decrease scheduled")
    SUBSCRIPTION_SCHEDULED_DECREASE_CANCEL = (
        "subscription.scheduled_decrease_cancel",
        _("Scheduled licence decrease cancelled"),
    )
    SUBSCRIPTION_SCHEDULED_DECREASE_SKIP = (
        "subscription.scheduled_decrease_skip",
        _("Scheduled licence decrease skipped"),
    )
    SUBSCRIPTION_SCHEDULED_DECREASE_APPLY = (
        "subscription.scheduled_decrease_apply",
        _("Scheduled licence decrease applied"),
    )
    SUBSCRIPTION_SUSPEND = "subscription.suspend", _("Subscription suspended")
    SUBSCRIPTION_REACTIVATE = "subscription.reactivate", _("Subscription reactivated")
    SUBSCRIPTION_TERMINATE = "subscription.terminate", _("Subscription terminated")
    SUBSCRIPTION_REVOKE_TERMINATION = "subscription.revoke_termination", _("Subscription termination revoked")
    SUBSCRIPTION_BILLING_CYCLE_CHANGE = "subscription.billing_cycle", _("Billing cycle changed")
    SUBSCRIPTION_AUTO_RENEW_SET = "subscription.auto_renew", _("Auto-renew changed")
    SUBSCRIPTION_CONVERT_TRIAL = "subscription.convert_trial", _("Trial converted to paid")
    SUBSCRIPTION_FRIENDLY_NAME_SET = "subscription.friendly_name", _("Subscription friendly name changed")
    SUBSCRIPTION_ADD_ON_ADD = "subscription.add_on_add", _("Add-on added")
    SUBSCRIPTION_ADD_ON_CHANGE = "subscription.add_on_change", _("Add-on changed")
    SUBSCRIPTION_ADD_ON_REMOVE = "subscription.add_on_remove", _("Add-on removed")
    SUBSCRIPTION_LICENSE_OPTIONS_UPDATE = "subscription.license_options", _("Subscription licence options changed")
    SUBSCRIPTION_PRICE_SET = "subscription.price_set", _("Subscription price set")
    SUBSCRIPTION_PRICES_APPLY = "subscription.prices_apply", _("Subscription prices applied")
    TENANT_USER_CREATE = "tenant_user.create", _("Tenant user created")
    TENANT_USERS_IMPORT = "tenant_users.import", _("Users imported from the marketplace's directory")
    TENANT_USERS_EXPORT = "tenant_users.export", _("Users exported to the marketplace's directory")
    TENANT_USER_LICENSE_ASSIGN = "tenant_user.license_assign", _("Licence assigned to user")
    TENANT_USER_LICENSE_UNASSIGN = "tenant_user.license_unassign", _("Licence removed from user")
    TENANT_USERS_SYNC = "tenant_users.sync", _("Tenant users synchronized")
    TRUSTED_DIRECTORY_ADD = "trusted_directory.add", _("Trusted directory added")
    TRUSTED_DIRECTORY_REMOVE = "trusted_directory.remove", _("Trusted directory removed")
    USER_INVITE = "user.invite", _("User invited")
    USER_INVITATION_RESEND = "user.invitation_resend", _("Invitation sent again")
    USER_INVITATION_REVOKE = "user.invitation_revoke", _("Invitation revoked")
    USER_INVITATION_ACCEPT = "user.invitation_accept", _("Invitation accepted")
    USER_ROLE_ADD = "user.role_add", _("Role given to user")
    USER_ROLE_REMOVE = "user.role_remove", _("Role taken from user")
    USER_CUSTOMERS_SET = "user.customers_set", _("User's customers changed")
    USER_DEACTIVATE = "user.deactivate", _("User deactivated")
    USER_REACTIVATE = "user.reactivate", _("User reactivated")
    USER_SIGN_IN = "user.sign_in", _("Sign-in")
    USER_SECOND_FACTOR_VERIFY = "user.second_factor", _("Second factor checked")
    USER_SECOND_FACTOR_ADD = "user.second_factor_add", _("Second factor added")
    USER_SECOND_FACTOR_REMOVE = "user.second_factor_remove", _("Second factor removed")
    USER_RECOVERY_CODES_CREATE = "user.recovery_codes_create", _("Recovery codes created")
    USER_LOCK = "user.lock", _("Account locked")
    ACCOUNT_LOCK = "account.lock", _("Unknown account locked")
    ADDRESS_LOCK = "address.lock", _("Address locked")
    PASSWORD_RESET_LOCK = "password_reset.lock", _("Password reset requests locked")
    USER_UNLOCK = "user.unlock", _("Account unlocked")
    WEBHOOK_ENDPOINT_CREATE = "webhook_endpoint.create", _("Webhook endpoint added")
    WEBHOOK_ENDPOINT_UPDATE = "webhook_endpoint.update", _("Webhook endpoint changed")
    WEBHOOK_ENDPOINT_DELETE = "webhook_endpoint.delete", _("Webhook endpoint deleted")
    WEBHOOK_DELIVERY_REDELIVER = "webhook_delivery.redeliver", _("Webhook delivery sent again")
