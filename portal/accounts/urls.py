from django.contrib.auth import views as auth_views
from django.urls import path

from portal.accounts import views, views_invitations, views_terms
from portal.authentication import views as microsoft_views
from portal.authentication import views_mfa

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
    path("terms/", views_terms.terms_accept_view, name="terms_accept"),
    path("profile/microsoft/link/", microsoft_views.link_start, name="microsoft_link"),
    path("profile/microsoft/link/complete/", microsoft_views.link_complete, name="microsoft_link_complete"),
    path("profile/microsoft/unlink/", microsoft_views.unlink, name="microsoft_unlink"),
    path("sign-in/verify/", views_mfa.second_factor_verify, name="second_factor_verify"),
    path("sign-in/enrol/", views_mfa.second_factor_enrol, name="second_factor_enrol"),
    path("second-factor/authenticator/qr.svg", views_mfa.totp_qr_code, name="totp_qr_code"),
    path("second-factor/authenticator/<int:pk>/remove/", views_mfa.totp_remove_view, name="totp_remove"),
    path("second-factor/passkeys/<int:pk>/remove/", views_mfa.passkey_remove_view, name="passkey_remove"),
    path(
        "second-factor/passkeys/register/options/",
        views_mfa.passkey_register_options,
        name="passkey_register_options",
    ),
    path("second-factor/passkeys/register/", views_mfa.passkey_register_complete, name="passkey_register_complete"),
    path(
        "second-factor/passkeys/authenticate/options/",
        views_mfa.passkey_authenticate_options,
        name="passkey_authenticate_options",
    ),
    path(
        "second-factor/passkeys/authenticate/",
        views_mfa.passkey_authenticate_complete,
        name="passkey_authenticate_complete",
    ),
    path("second-factor/recovery-codes/", views_mfa.recovery_codes_show, name="recovery_codes_show"),
    path(
        "second-factor/recovery-codes/new/", views_mfa.recovery_codes_regenerate_view, name="recovery_codes_regenerate"
    ),
    path("unlock/<str:token>/", views_mfa.unlock, name="unlock"),
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
