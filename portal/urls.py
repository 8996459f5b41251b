"""URLs of a partner's host (<slug>.<PORTAL_DOMAIN>)."""

from django.urls import include, path

from customers.urls_registration import settings_urlpatterns as registration_settings_urls
from portal.core import views as core_views
from portal.observability import views as observability_views
from resellers import views_providers

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", observability_views.readyz, name="readyz"),
    path("accounts/", include("portal.accounts.urls")),
    path("microsoft/", include("portal.microsoft.urls")),
    # Add service on a customer offers pooled services too, which the customers app does not know about
    path(
        "customers/<int:customer_pk>/add-service/",
        views_providers.customer_add_service,
        name="customer_add_service",
    ),
    path("customers/", include("customers.urls")),
    path("register/", include("customers.urls_registration")),
    path("marketplace/", include("marketplace.urls")),
    path("settings/customer-registration/", include((registration_settings_urls, "registration_settings"))),
    path("settings/", include("portal.core.urls_settings")),
    path("notifications/", include("portal.audit.urls")),
    path("resellers/", include("resellers.urls")),
    path("pools/", include("pools.urls")),
    path("reports/", include("reports.urls")),
    path("help/", include("support.urls")),
    path("invoices/", include("reports.urls_invoices")),
    path("catalog/", include("catalog.urls")),
    path("subscriptions/", include("subscriptions.urls")),
    path("orders/", include("orders.urls")),
    path("api/v1/", include("api.urls")),
    # Apps add their include() above this line; the catch-all section placeholder stays last.
    path("", include("portal.core.urls")),
]
