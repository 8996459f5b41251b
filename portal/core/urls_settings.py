"""Settings (namespace `settings`): users, roles, customer groups, audit logs.

Authentication settings live in the microsoft app (`microsoft:authentication_settings`).
"""

from django.urls import path

from api import views as api_views
from marketplace import views_settings as marketplace_settings_views
from portal.accounts import views_customer_groups, views_roles, views_settings, views_terms, views_users
from portal.audit import views as audit_views
from portal.webhooks import views as webhook_views
from support import views as support_views

app_name = "settings"

urlpatterns = [
    path("", views_settings.index, name="index"),
    path("users/", views_users.user_list, name="user_list"),
    path("users/invite/", views_users.user_invite_view, name="user_invite"),
    path("users/<int:pk>/", views_users.user_detail, name="user_detail"),
    path("users/<int:pk>/roles/add/", views_users.user_role_add_view, name="user_role_add"),
    path("users/<int:pk>/roles/<int:role_pk>/remove/", views_users.user_role_remove_view, name="user_role_remove"),
    path("users/<int:pk>/customers/", views_users.user_customers_view, name="user_customers"),
    path("users/<int:pk>/deactivate/", views_users.user_deactivate_view, name="user_deactivate"),
    path("users/<int:pk>/reactivate/", views_users.user_reactivate_view, name="user_reactivate"),
    path("users/<int:pk>/unlock/", views_users.user_unlock_view, name="user_unlock"),
    path("users/<int:pk>/invitation/resend/", views_users.invitation_resend_view, name="invitation_resend"),
    path("users/<int:pk>/invitation/revoke/", views_users.invitation_revoke_view, name="invitation_revoke"),
    path("language-and-region/", views_settings.language_region, name="language_region"),
    path("terms/", views_terms.terms_settings, name="terms"),
    path("roles/", views_roles.role_list, name="role_list"),
    path("roles/new/", views_roles.role_create_view, name="role_create"),
    path("roles/<int:pk>/", views_roles.role_edit, name="role_edit"),
    path("roles/<int:pk>/delete/", views_roles.role_delete_view, name="role_delete"),
    path("roles/<int:pk>/users/add/", views_roles.role_user_add_view, name="role_user_add"),
    path("customer-groups/", views_customer_groups.customer_group_list, name="customer_group_list"),
    path("customer-groups/new/", views_customer_groups.customer_group_create_view, name="customer_group_create"),
    path("customer-groups/<int:pk>/", views_customer_groups.customer_group_edit, name="customer_group_edit"),
    path(
        "customer-groups/<int:pk>/delete/",
        views_customer_groups.customer_group_delete_view,
        name="customer_group_delete",
    ),
    path("feedback/", support_views.feedback_management, name="feedback_list"),
    path("feedback/export.csv", support_views.feedback_export, name="feedback_export"),
    path("feedback/<int:pk>/", support_views.feedback_detail, name="feedback_detail"),
    path("troubleshooting/", support_views.troubleshooting_profile, name="troubleshooting"),
    path("troubleshooting/<int:pk>/remove/", support_views.troubleshooting_remove, name="troubleshooting_remove"),
    path("api-tokens/", api_views.api_token_list, name="api_token_list"),
    path("api-tokens/new/", api_views.api_token_create_view, name="api_token_create"),
    path("api-tokens/<int:pk>/revoke/", api_views.api_token_revoke_view, name="api_token_revoke"),
    path("webhooks/", webhook_views.webhook_list, name="webhook_list"),
    path("webhooks/new/", webhook_views.webhook_create_view, name="webhook_create"),
    path("webhooks/<int:pk>/", webhook_views.webhook_detail, name="webhook_detail"),
    path("webhooks/<int:pk>/edit/", webhook_views.webhook_edit_view, name="webhook_edit"),
    path("webhooks/<int:pk>/ping/", webhook_views.webhook_ping_view, name="webhook_ping"),
    path("webhooks/<int:pk>/delete/", webhook_views.webhook_delete_view, name="webhook_delete"),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_pk>/redeliver/",
        webhook_views.webhook_redeliver_view,
        name="webhook_redeliver",
    ),
    path("audit-logs/", audit_views.audit_log, name="audit_log"),
    path("audit-logs/export.csv", audit_views.audit_log_export, name="audit_log_export"),
    path(
        "marketplace-capabilities/",
        marketplace_settings_views.capability_matrix_view,
        name="marketplace_capabilities",
    ),
]
