from django import forms
from django.utils.translation import gettext_lazy as _

from support.choices import FeedbackCategory, FeedbackStatus


class FeedbackForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=FeedbackCategory.choices)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    message = forms.CharField(label=_("Your feedback"), widget=forms.Textarea(attrs={"rows": 6}), max_length=5000)
    page = forms.CharField(widget=forms.HiddenInput, required=False)


class FeedbackFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Subject, text, author or customer")}),
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any status")), *FeedbackStatus.choices], required=False
    )
    category = forms.ChoiceField(
        label=_("Category"), choices=[("", _("Any category")), *FeedbackCategory.choices], required=False
    )


class FeedbackStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=FeedbackStatus.choices)


class FeedbackReplyForm(forms.Form):
    message = forms.CharField(label=_("Reply by email"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000)


class TroubleshootingAddressForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
