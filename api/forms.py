import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from api.choices import API_MODULES, ApiAccess, scope_name
from portal.accounts.choices import PermissionModule

DEFAULT_LIFETIME_DAYS = 90


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("Where the token is used, for example: PSA ticket sync.")
    )
    expires_on = forms.DateField(
        label=_("Expires on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("At most a year from today. The token stops working at the start of that day (UTC)."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expires_on"].initial = timezone.localdate() + datetime.timedelta(days=DEFAULT_LIFETIME_DAYS)
        labels = dict(PermissionModule.choices)
        for module in API_MODULES:
            self.fields[f"scope_{module}"] = forms.ChoiceField(
                label=labels[module],
                choices=[("", _("No access")), *ApiAccess.choices],
                required=False,
                initial="",
                widget=forms.RadioSelect,
            )

    def scopes(self) -> list[str]:
        return [
            scope_name(module, self.cleaned_data[f"scope_{module}"])
            for module in API_MODULES
            if self.cleaned_data.get(f"scope_{module}")
        ]

    def expires_at(self) -> datetime.datetime:
        day = self.cleaned_data["expires_on"]
        return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)
