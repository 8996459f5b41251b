"""Pieces the list screens of resellers and pools share: filter chips, Manage columns, LAR access."""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import wraps

from django import forms
from django.http import Http404, HttpRequest, QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


def large_account_reseller_required(view):
    """The Licenses screens exist only at a large account reseller: a 404 anywhere else."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        partner = getattr(request, "tenant", None)
        if partner is None or not partner.is_large_account_reseller:
            raise Http404(_("Only a large account reseller has this page."))
        return view(request, *args, **kwargs)

    wrapped.large_account_reseller_only = True
    return wrapped


@dataclass(frozen=True)
class FilterChip:
    label: str
    value: str
    remove_query: str


def _display(field: forms.Field, value) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_display(field, item) for item in value)
    if hasattr(field, "choices") and not isinstance(field, forms.ModelChoiceField):
        for key, label in field.choices:
            if str(key) == str(value):
                return str(label)
    return str(value)


def filter_chips(form: forms.Form, query: QueryDict, *, reset: Iterable[str] = ("page",)) -> list[FilterChip]:
    """One removable chip per filter in use; each chip's link is the query without that filter."""
    if not form.is_bound or not form.is_valid():
        return []
    chips = []
    for name, field in form.fields.items():
        value = form.cleaned_data.get(name)
        if value in (None, "", [], ()):
            continue
        key = form.add_prefix(name)
        remaining = query.copy()
        for dropped in (key, *reset):
            remaining.pop(dropped, None)
        encoded = remaining.urlencode()
        chips.append(FilterChip(str(field.label), _display(field, value), f"?{encoded}" if encoded else "?"))
    return chips


class ColumnsForm(forms.Form):
    """Manage columns: the optional columns a user shows, and the list's query to come back to."""

    columns = forms.MultipleChoiceField(
        label=gettext_lazy("Columns"), required=False, widget=forms.CheckboxSelectMultiple
    )
    query = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["columns"].choices = choices

    def clean_query(self) -> str:
        # Only a query string, never a URL: the view appends it to its own path.
        return self.cleaned_data["query"].lstrip("?").split("#")[0]


def chosen_columns(preferences: dict, key: str, *, known: Iterable[str], default: Iterable[str]) -> list[str]:
    """The optional columns a user chose (Manage columns), or the defaults."""
    known = list(known)
    saved = preferences.get(key)
    if not isinstance(saved, list):
        return [name for name in default if name in known]
    return [name for name in saved if name in known]
