"""Partner-host URLs of Microsoft sign-in (completion) and Settings > Authentication.

Linking your own account (My profile) and accepting an invitation with Microsoft are in `accounts:`:
they are for every signed-in user and for invited people, not for settings managers only.
"""

from django.urls import path

from portal.authentication import views as authentication_views

app_name = "microsoft"

urlpatterns: list = [
    path("sign-in/", authentication_views.sign_in_start, name="sign_in_start"),
    path("sign-in/complete/", authentication_views.sign_in_complete, name="sign_in_complete"),
    path("settings/", authentication_views.authentication_settings, name="authentication_settings"),
    path(
        "settings/trusted-directories/add/",
        authentication_views.trusted_directory_add_start,
        name="trusted_directory_add",
    ),
    path(
        "settings/trusted-directories/add/complete/",
        authentication_views.trusted_directory_add_complete,
        name="trusted_directory_add_complete",
    ),
    path(
        "settings/trusted-directories/<int:pk>/remove/",
        authentication_views.trusted_directory_remove_view,
        name="trusted_directory_remove",
    ),
]
