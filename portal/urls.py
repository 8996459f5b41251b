"""URLs of a partner's host (<slug>.<PORTAL_DOMAIN>)."""

from django.urls import include, path

from portal.core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("portal.accounts.urls")),
    # Apps add their include() above this line; the catch-all section placeholder stays last.
    path("", include("portal.core.urls")),
]
