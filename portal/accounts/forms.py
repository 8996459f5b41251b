from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils.translation import gettext_lazy as _

from portal.accounts.locale import time_zone_choices
from portal.accounts.tasks import password_reset_email_send
from portal.core.tasks import enqueue_on_commit


class SignInForm(AuthenticationForm):
    username = forms.CharField(
        label=_("Username or email"),
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The username, email or password is not right. Check them and try again."),
    }


class PasswordResetByEmailForm(PasswordResetForm):
    """Sends the reset email from a Celery task, after the request commits, in this partner's schema.

    The link in the email is built from the partner's configured address (as invitations are), never from
    the request: a forged Host header must not put an attacker's host in front of a valid reset token.
    """

    def save(self, domain_override=None, request=None, use_https=False, **kwargs) -> None:
        for user in self.get_users(self.cleaned_data["email"]):
            enqueue_on_commit(password_reset_email_send, user_id=user.pk)


class ProfileForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=time_zone_choices,
        help_text=_("Dates and times on screens and in emails are shown in this time zone."),
    )

    class Meta:
        model = get_user_model()
        fields = ["first_name", "last_name", "organisation_name", "phone", "language", "time_zone"]
