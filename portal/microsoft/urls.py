"""Partner-host URLs of Microsoft sign-in (completion) and Settings > Authentication."""

from django.urls import path

from portal.authentication import views as authentication_views

app_name = "microsoft"

urlpatterns: list = [
    path("sign-in/", authentication_views.sign_in_start, name="sign_in_start"),
    path("sign-in/complete/", authentication_views.sign_in_complete, name="sign_in_complete"),
    path("settings/", authentication_views.authentication_settings, name="authentication_settings"),
    path("settings/link/", authentication_views.link_start, name="link"),
    path("settings/link/complete/", authentication_views.link_complete, name="link_complete"),
    path("settings/unlink/", authentication_views.unlink, name="unlink"),
]
