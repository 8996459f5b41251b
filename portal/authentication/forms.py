from django import forms
from django.utils.translation import gettext_lazy as _


class AuthenticationSettingsForm(forms.Form):
    """The sign-in methods; the lock-out rules live in the service, which explains a refusal."""

    allow_local_sign_in = forms.BooleanField(
        label=_("Sign in with a username and password"),
        required=False,
        help_text=_("People sign in with their console username or email and a password."),
    )
    allow_microsoft_sign_in = forms.BooleanField(
        label=_("Sign in with Microsoft"),
        required=False,
        help_text=_("People sign in with their Microsoft work or school account (Entra ID)."),
    )
    allow_personal_microsoft_sign_in = forms.BooleanField(
        label=_("Sign in with a personal Microsoft account"),
        required=False,
        help_text=_(
            "People sign in with a personal Microsoft account (Outlook.com, Hotmail, Live) once they have "
            "linked it in My profile."
        ),
    )
    require_mfa = forms.BooleanField(
        label=_("Require multi-factor authentication"),
        required=False,
        help_text=_(
            "Everyone signing in with a password proves a second factor: an authenticator app, a passkey "
            "or a security key. A Microsoft sign-in counts when Microsoft already asked for one. "
            "People without one set it up at their next sign-in."
        ),
    )
