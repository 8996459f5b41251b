"""URLs of the Invoices section, under /invoices/ (namespace `invoices`)."""

from django.urls import path

from reports import views_invoices as views

app_name = "invoices"

urlpatterns = [
    path("", views.invoice_list, name="invoice_list"),
    path("statements/<int:pk>/", views.statement_detail, name="statement_detail"),
    path("previews/fetch/", views.invoice_previews_fetch_view, name="invoice_previews_fetch"),
    path("<int:import_pk>/<path:invoice_id>/", views.invoice_detail, name="invoice_detail"),
]
