from django import forms, template

from catalog.templatetags.catalog_tags import money as catalog_money

register = template.Library()

# Money has one way to be shown: the reader's language and the amount's currency (catalog.pricing).
register.filter("money", catalog_money)


@register.filter
def bootstrap(field: forms.BoundField):
    """Render a form field with the Bootstrap class its widget needs, marking invalid fields."""
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxInput | forms.RadioSelect | forms.CheckboxSelectMultiple):
        css = "form-check-input"
    elif isinstance(widget, forms.Select):
        css = "form-select"
    else:
        css = "form-control"
    if field.errors:
        css += " is-invalid"
    existing = widget.attrs.get("class", "")
    return field.as_widget(attrs={"class": f"{existing} {css}".strip()})


@register.filter
def is_checkbox(field: forms.BoundField) -> bool:
    return isinstance(field.field.widget, forms.CheckboxInput)


@register.filter
def is_radio(field: forms.BoundField) -> bool:
    """A set of radio buttons: rendered one Bootstrap form-check per choice, under a legend."""
    return isinstance(field.field.widget, forms.RadioSelect)


@register.simple_tag
def radio_input(choice, invalid: bool = False):
    """One radio button of a RadioSelect with the widget's own attributes (htmx ones too) and Bootstrap's class."""
    attrs = dict(choice.data.get("attrs") or {})
    attrs["class"] = " ".join(
        part for part in (attrs.get("class", ""), "form-check-input", "is-invalid" if invalid else "") if part
    )
    context = {"widget": {**choice.data, "attrs": attrs, "wrap_label": False}}
    return choice.parent_widget._render(choice.template_name, context, choice.renderer)
