from django.urls import path

from portal.core import views as core_views

app_name = "marketplace"

# Placeholder until the marketplace screens are built: the section's honest "coming soon" page.
urlpatterns = [
    path("", core_views.section, {"section": "marketplace"}, name="index"),
]
