"""The customer filter of lists and reports: small however many customers a partner has.

A select of every customer cost a large partner ~110 KB of HTML on each opening of the subscription
list, the commitment calendar, the licence requests and the reports. The filter lists the first
CUSTOMER_OPTIONS customers by name and the chosen one; a search field above it (not part of the
form: its `form` attribute names none) asks `customers:customer_options` for the customers whose
name holds what was typed, and puts them in the select.
"""

from __future__ import annotations

import json

from django import forms
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from portal.core.forms_renderer import attributes_html

CUSTOMER_OPTIONS = 20


def customer_options_html(customers, *, selected=None, empty_label) -> SafeString:
    """`<option>`s of a customer filter: the empty choice, the chosen customer, the others given."""
    options = [format_html('<option value=""{}>{}</option>', "" if selected else mark_safe(" selected"), empty_label)]
    if selected is not None:
        options.append(format_html('<option value="{}" selected>{}</option>', selected.pk, selected.name))
    for customer in customers:
        if selected is None or customer.pk != selected.pk:
            options.append(format_html('<option value="{}">{}</option>', customer.pk, customer.name))
    return mark_safe("\n".join(options))  # noqa: S308 - every value above is escaped


def customer_picker_html(*, name: str, attrs: dict, customers, value, empty_label) -> SafeString:
    """The search field and the select of a customer filter over `customers` (the visible ones,
    ordered by name), `value` the chosen customer's id (or nothing)."""
    selected = None
    if value not in (None, "") and str(value).isdigit():
        selected = customers.filter(pk=int(value)).first()
    select_id = attrs.get("id") or f"id_{name}"
    search = format_html(
        '<input type="search" class="form-control form-control-sm mb-1" form="{}-detached" name="customer_search"'
        ' aria-label="{}" placeholder="{}" aria-controls="{}" autocomplete="off" hx-get="{}"'
        ' hx-trigger="input changed delay:300ms, search" hx-target="#{}" hx-swap="innerHTML" hx-vals="{}"'
        ' data-testid="customer-search">',
        select_id,
        _("Search customers"),
        _("Search customers"),
        select_id,
        reverse("customers:customer_options"),
        select_id,
        json.dumps({"selected": selected.pk if selected is not None else "", "empty": str(empty_label)}),
    )
    options = customer_options_html(customers[:CUSTOMER_OPTIONS], selected=selected, empty_label=empty_label)
    return format_html(
        '{}<select name="{}"{}>{}</select>',
        search,
        name,
        mark_safe(attributes_html({**attrs, "id": select_id})),
        options,
    )


class CustomerPicker(forms.Select):
    """The widget of a customer ModelChoiceField (its queryset: the visible customers by name)."""

    def render(self, name, value, attrs=None, renderer=None):
        field = self.choices.field
        return customer_picker_html(
            name=name,
            attrs=self.build_attrs(self.attrs, attrs),
            customers=field.queryset,
            value=value,
            empty_label=field.empty_label,
        )
