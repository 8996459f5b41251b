from django import forms
from django.utils.translation import gettext_lazy as _


class SecondFactorCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "one-time-code", "inputmode": "text"}),
    )


class TotpEnrolForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the app"),
        max_length=10,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    name = forms.CharField(
        label=_("Name"),
        max_length=64,
        required=False,
        help_text=_("So you can tell your devices apart, for example “Work phone”."),
    )


class ConfirmIdentityForm(forms.Form):
    """Removing a factor or replacing recovery codes needs the password or a current code."""

    password = forms.CharField(
        label=_("Your password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(
        label=_("Or a current code"),
        required=False,
        max_length=32,
        help_text=_("A code from your authenticator app, or a recovery code."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )

    def clean(self):
        data = super().clean()
        if not data.get("password") and not data.get("code"):
            raise forms.ValidationError(_("Enter your password or a current code."))
        return data
