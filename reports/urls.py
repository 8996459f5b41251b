"""URLs of the Report center (partner hosts, under /reports/)."""

from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("usage/", views.usage, name="usage"),
    path("usage/export/", views.usage_export, name="usage_export"),
    path("usage/<int:pk>/", views.usage_detail, name="usage_detail"),
    path("operations/", views.operations, name="operations"),
    path("storage/", views.storage, name="storage"),
    path("storage/<int:pk>/", views.storage_customer, name="storage_customer"),
    path("operations/export/", views.operations_export, name="operations_export"),
    path("activity/", views.activity, name="activity"),
    path("activity/export/", views.activity_export, name="activity_export"),
    path("cost/", views.cost, name="cost"),
    path("cost/export/", views.cost_export, name="cost_export"),
    path("custom/", views.custom, name="custom"),
    path("custom/export/", views.custom_export, name="custom_export"),
    path("custom/save/", views.custom_save, name="custom_save"),
    path("custom/<int:pk>/delete/", views.custom_delete, name="custom_delete"),
    path("billing/", views.billing, name="billing"),
    path("billing/export/", views.billing_export, name="billing_export"),
    path("billing/pdf/", views.billing_pdf_view, name="billing_pdf"),
    path("billing/billing-day/", views.billing_day, name="billing_day"),
    path("reconciliation/", views.reconciliation, name="reconciliation"),
    path("reconciliation/export/", views.reconciliation_export, name="reconciliation_export"),
    path("reconciliation/fetch/", views.reconciliation_fetch, name="reconciliation_fetch"),
]
