from django import forms
from django.utils.translation import gettext_lazy as _

from portal.accounts.locale import time_zone_choices
from portal.partners.models import Partner


class PartnerLocaleForm(forms.ModelForm):
    default_time_zone = forms.ChoiceField(label=_("Default time zone"), choices=time_zone_choices)

    class Meta:
        model = Partner
        fields = ["default_language", "default_time_zone"]
        help_texts = {
            "default_language": _(
                "New users, invitation emails and notifications to administrators start in this language. "
                "Each user can choose another in My profile."
            ),
        }
