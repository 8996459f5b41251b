from django.urls import path

from portal.core import views as core_views

app_name = "settings"

# Placeholder until the Settings screens are built.
urlpatterns = [
    path("", core_views.section, {"section": "settings"}, name="index"),
]
