"""URLs of the public host (<PORTAL_DOMAIN>): the landing page, partner sign-up and the platform admin."""

from django.contrib import admin
from django.urls import include, path

from portal.core import views as core_views
from portal.observability import views as observability_views

admin.site.site_header = "Console platform administration"
admin.site.site_title = "Console platform"

urlpatterns = [
    path("", core_views.landing, name="landing"),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", observability_views.readyz, name="readyz"),
    path("metrics", observability_views.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("microsoft/", include("portal.microsoft.urls_public")),
    path("sign-up/", include("signup.urls")),
]
