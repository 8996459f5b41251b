from django import forms
from django.utils.translation import gettext_lazy as _

from portal.webhooks.choices import WebhookEventType


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(
        label=_("URL"), max_length=500, assume_scheme="https", help_text=_("Where the console POSTs each event.")
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(value, label) for value, label in WebhookEventType.choices if value != WebhookEventType.PING],
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )


class WebhookEndpointEditForm(WebhookEndpointForm):
    is_active = forms.BooleanField(
        label=_("Active"),
        required=False,
        help_text=_("An inactive endpoint receives nothing until it is active again."),
    )
