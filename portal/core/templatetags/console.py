from django import forms, template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

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


def _computes_per_record(attrs) -> bool:
    """Whether django-tables2 attributes hold a callable (computed from each row's record and value)."""
    if callable(attrs):
        return True
    if isinstance(attrs, dict):
        return any(_computes_per_record(value) for value in attrs.values())
    return False


@register.simple_tag
def table_rows(table, row_attribute: str = "") -> SafeString:
    """The body rows of a django-tables2 table: what `{% for row in table.paginated_rows %}` with
    `row.items` and `column.attrs.td.as_html` writes, without a template round per cell. Cell
    attributes that do not depend on the record are computed once per column, not once per cell."""
    columns = list(table.columns)
    static_attributes = {}
    for column in columns:
        merged = {**table.attrs, **column.column.attrs}
        if not _computes_per_record(merged.get("td", merged.get("cell", {}))):
            static_attributes[column.name] = column.attrs["td"].as_html()
    attribute = row_attribute or "row"
    rows = []
    for row in table.paginated_rows:
        cells = []
        for column in columns:
            value = row.get_cell(column.name)
            attributes = static_attributes.get(column.name)
            if attributes is None:
                column.current_value, column.current_record = value, row.record
                attributes = column.attrs["td"].as_html()
            cells.append(format_html("<td {}>{}</td>", attributes, value))
        record = row.record
        pk = record.get("pk") if isinstance(record, dict) else getattr(record, "pk", None)
        opening = format_html('<tr data-{}="{}">', attribute, pk) if pk else mark_safe("<tr>")
        rows.append(opening + mark_safe("".join(cells)) + mark_safe("</tr>"))
    return mark_safe("\n".join(rows))  # noqa: S308 - every cell and value is escaped by format_html
