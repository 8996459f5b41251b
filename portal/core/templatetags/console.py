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
