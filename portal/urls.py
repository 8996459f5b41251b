"""URLs of a partner's host (<slug>.<PORTAL_DOMAIN>)."""

from django.urls import include, path

from portal.core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("portal.accounts.urls")),
    path("microsoft/", include("portal.microsoft.urls")),
    path("customers/", include("customers.urls")),
    path("marketplace/", include("marketplace.urls")),
    path("settings/", include("portal.core.urls_settings")),
    path("notifications/", include("portal.audit.urls")),
    path("resellers/", include("resellers.urls")),
    path("pools/", include("pools.urls")),
    path("reports/", include("reports.urls")),
    path("catalog/", include("catalog.urls")),
    path("subscriptions/", include("subscriptions.urls")),
    path("orders/", include("orders.urls")),
    # Apps add their include() above this line; the catch-all section placeholder stays last.
    path("", include("portal.core.urls")),
]
