"""URLs of the subscription lifecycle screens, under /subscriptions/ (namespace `subscriptions`)."""

from django.urls import path

from subscriptions import views_requests, views_subscriptions, views_users

app_name = "subscriptions"

urlpatterns = [
    path("", views_subscriptions.subscription_list, name="subscription_list"),
    path("columns/", views_subscriptions.subscription_columns, name="subscription_columns"),
    path("changes/", views_subscriptions.subscription_changes, name="subscription_changes"),
    path("calendar/", views_subscriptions.calendar, name="calendar"),
    path("<int:pk>/", views_subscriptions.subscription_detail, name="subscription_detail"),
    path("<int:pk>/quantity/", views_subscriptions.subscription_quantity, name="subscription_quantity"),
    path("<int:pk>/manage/<str:action>/", views_subscriptions.subscription_manage, name="subscription_manage"),
    path("<int:pk>/add-ons/add/", views_subscriptions.subscription_add_on_add, name="subscription_add_on_add"),
    path("<int:pk>/add-ons/<str:add_on>/", views_subscriptions.subscription_add_on, name="subscription_add_on"),
    path(
        "scheduled/<int:pk>/cancel/", views_subscriptions.scheduled_change_cancel_view, name="scheduled_change_cancel"
    ),
    # Licence change requests and Tenant settings > Licenses
    path("requests/", views_requests.request_list, name="request_list"),
    path("requests/new/", views_requests.request_create, name="request_create"),
    path("requests/new-service/", views_requests.request_new_service, name="request_new_service"),
    path("requests/<int:pk>/", views_requests.request_detail, name="request_detail"),
    path("requests/<int:pk>/decide/", views_requests.request_decide, name="request_decide"),
    path("tenants/<int:tenant_pk>/licenses/", views_requests.tenant_license_settings, name="tenant_license_settings"),
    path(
        "tenants/<int:tenant_pk>/licenses/<int:pk>/",
        views_requests.subscription_options_edit,
        name="subscription_options_edit",
    ),
    # Users and licence assignment, for marketplaces that manage users
    path("tenants/<int:tenant_pk>/users/", views_users.tenant_user_list, name="tenant_user_list"),
    path("tenants/<int:tenant_pk>/users/new/", views_users.tenant_user_create_view, name="tenant_user_create"),
    path("tenants/<int:tenant_pk>/users/sync/", views_users.tenant_users_sync_view, name="tenant_users_sync"),
    path("tenants/<int:tenant_pk>/users/assign/", views_users.tenant_users_assign, name="tenant_users_assign"),
    path("tenants/<int:tenant_pk>/users/<int:pk>/", views_users.tenant_user_detail, name="tenant_user_detail"),
]
