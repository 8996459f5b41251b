"""Selects are written in Python by the console's form renderer: the same markup Django's templates write."""

import re

from django import forms
from django.forms.renderers import DjangoTemplates

from portal.accounts.locale import time_zone_choices
from portal.core.forms_renderer import ConsoleFormRenderer


class ChoicesForm(forms.Form):
    zone = forms.ChoiceField(choices=time_zone_choices)
    grouped = forms.ChoiceField(
        choices=[("Group <A>", [("1", "<one>"), ("2", 'two "2"')]), ("3", "three & 3")], required=False
    )
    several = forms.MultipleChoiceField(choices=[("a", "A"), ("b", "B")], required=False)
    maybe = forms.NullBooleanField()
    note = forms.CharField(required=False)


def rendered(renderer, **initial) -> list[str]:
    form = ChoicesForm(initial=initial, renderer=renderer)
    return [re.sub(r"\s+", " ", str(form[name].as_widget(attrs={"class": "form-select"}))) for name in form.fields]


def test_every_select_reads_as_djangos_own_markup():
    initial = {"zone": "Europe/Berlin", "grouped": "2", "several": ["a", "b"], "maybe": True}

    assert rendered(ConsoleFormRenderer(), **initial) == rendered(DjangoTemplates(), **initial)
    assert rendered(ConsoleFormRenderer()) == rendered(DjangoTemplates())


def test_the_chosen_option_is_selected_and_labels_are_escaped():
    zone, grouped, *_ = rendered(ConsoleFormRenderer(), zone="Asia/Tokyo", grouped="1")

    assert '<option value="Asia/Tokyo" selected>Asia/Tokyo</option>' in zone
    assert zone.count(" selected") == 1
    assert '<optgroup label="Group &lt;A&gt;">' in grouped and "&lt;one&gt;" in grouped


def test_the_profile_shows_the_users_time_zone_chosen(partner_alpha, alpha_admin_client):
    from django_tenants.utils import schema_context

    from portal.accounts.models import User

    with schema_context(partner_alpha.schema_name):
        User.objects.filter(username="admin").update(time_zone="America/New_York")

    body = alpha_admin_client.get("/accounts/profile/").content.decode()

    assert '<option value="America/New_York" selected>America/New York</option>' in body
