from django.urls import path

from customers import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="customer_list"),
    path("columns/", views.customer_columns, name="customer_columns"),
    path("options/", views.customer_options, name="customer_options"),
    path("new/", views.customer_create_view, name="customer_create"),
    path("own-organisation/", views.own_organisation_add_view, name="own_organisation_add"),
    path("<int:pk>/", views.customer_detail, name="customer_detail"),
    path("<int:pk>/edit/", views.customer_update_view, name="customer_update"),
    path("<int:pk>/delete/", views.customer_delete_view, name="customer_delete"),
    path("<int:pk>/open-as-customer/", views.customer_open_as_view, name="customer_open_as"),
    path("open-as-customer/leave/", views.customer_open_as_leave_view, name="customer_open_as_leave"),
    path("<int:customer_pk>/tenants/add/", views.customer_tenant_add_view, name="customer_tenant_add"),
    path(
        "<int:customer_pk>/tenants/<int:tenant_pk>/remove/",
        views.customer_tenant_remove_view,
        name="customer_tenant_remove",
    ),
    path(
        "<int:customer_pk>/tenants/<int:tenant_pk>/authenticate/",
        views.customer_tenant_consent_start_view,
        name="customer_tenant_consent_start",
    ),
    # The return path of admin consent (portal.microsoft.views_public hands Microsoft's answer here).
    path(
        "tenants/consent/complete/",
        views.customer_tenant_consent_complete_view,
        name="customer_tenant_consent_complete",
    ),
]
