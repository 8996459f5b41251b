from django.contrib.auth import views as auth_views
from django.urls import path

from portal.accounts import views, views_invitations
from portal.authentication import views as microsoft_views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.SignInView.as_view(), name="login"),
    path("sign-out/", views.SignOutView.as_view(), name="logout"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path("password/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("profile/", views.profile, name="profile"),
    path("profile/microsoft/link/", microsoft_views.link_start, name="microsoft_link"),
    path("profile/microsoft/link/complete/", microsoft_views.link_complete, name="microsoft_link_complete"),
    path("profile/microsoft/unlink/", microsoft_views.unlink, name="microsoft_unlink"),
    path("invitation/<str:token>/", views_invitations.invitation_accept_view, name="invitation_accept"),
    path(
        "invitation/<str:token>/microsoft/",
        microsoft_views.invitation_microsoft_start,
        name="invitation_microsoft",
    ),
    path(
        "invitation-microsoft/complete/",
        microsoft_views.invitation_microsoft_complete,
        name="invitation_microsoft_complete",
    ),
]
