from django.urls import path

from marketplace import views, views_tenants

app_name = "marketplace"

_account = "<slug:marketplace>/accounts/<int:account_pk>/"
_tenant = "<slug:marketplace>/tenants/<int:connection_pk>/"

urlpatterns = [
    path("", views.index, name="index"),
    path("new-tenant/", views_tenants.tenant_create_start, name="tenant_create_start"),
    path("new-tenant/<int:customer_pk>/", views_tenants.tenant_create, name="tenant_create"),
    path(
        "new-tenant/<int:customer_pk>/domain/",
        views_tenants.tenant_create_domain_check,
        name="tenant_create_domain_check",
    ),
    path("customer-tenants/<int:tenant_pk>/licences/", views.customer_tenant_licences, name="tenant_licences"),
    path("gdap/", views.gdap, name="gdap"),
    path("health/", views.health, name="health"),
    path("health/tile/", views.health_tile, name="health_tile"),
    path("<slug:marketplace>/", views.marketplace_detail, name="marketplace_detail"),
    path("<slug:marketplace>/accounts/", views.account_list, name="account_list"),
    path("<slug:marketplace>/accounts/add/", views.account_create, name="account_create"),
    path(_account, views.account_detail, name="account_detail"),
    path(_account + "fields/<slug:field>/", views.account_field, name="account_field"),
    path(_account + "fields/<slug:field>/edit/", views.account_field_edit, name="account_field_edit"),
    path(_account + "delete/", views.account_delete, name="account_delete"),
    path(_account + "credit/", views.account_credit, name="account_credit"),
    path(_account + "sync/", views.account_sync, name="account_sync"),
    path(_account + "sync/status/", views.account_sync_status, name="account_sync_status"),
    path(_account + "prices/", views.account_prices, name="account_prices"),
    path(_account + "prices/uniform/", views.account_prices_uniform, name="account_prices_uniform"),
    path(_account + "prices/add/", views.account_prices_add, name="account_prices_add"),
    path(_account + "prices/delete/", views.account_prices_delete, name="account_prices_delete"),
    path("<slug:marketplace>/tenants/add/", views.tenant_add, name="tenant_add"),
    path(_tenant + "connect/", views.tenant_connect, name="tenant_connect"),
    path(_tenant + "disconnect/", views.tenant_disconnect, name="tenant_disconnect"),
    path(_tenant + "remove/", views.tenant_remove, name="tenant_remove"),
]
