from django.urls import path

from portal.core import views as core_views

app_name = "customers"

# Placeholder until the customers screens are built: the section's honest "coming soon" page.
urlpatterns = [
    path("", core_views.section, {"section": "customers"}, name="customer_list"),
]
