"""The form renderer: Django's own templates, except a select's options, which are written in Python.

Django renders every `<option>` through two template includes; a select of the ~600 time zones
took longer than the rest of its page. The markup written here is the one
`django/forms/widgets/select.html` and `select_option.html` produce, so every select looks and
behaves as before.
"""

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

SELECT_TEMPLATE = "django/forms/widgets/select.html"
OPTION_TEMPLATE = "django/forms/widgets/select_option.html"


def attributes_html(attrs: dict) -> str:
    """What `django/forms/widgets/attrs.html` writes: ` name="value"`, a bare ` name` for True, nothing for False."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {conditional_escape(name)}")
        else:
            parts.append(f' {conditional_escape(name)}="{conditional_escape(str(value))}"')
    return "".join(parts)


def select_html(widget: dict) -> str:
    lines = [f'<select name="{conditional_escape(widget["name"])}"{attributes_html(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            lines.append(format_html('  <optgroup label="{}">', group_name))
        for option in options:
            lines.append(
                f'  <option value="{conditional_escape(str(option["value"]))}"{attributes_html(option["attrs"])}>'
                f"{conditional_escape(option['label'])}</option>"
            )
        if group_name:
            lines.append("  </optgroup>")
    lines.append("</select>")
    return mark_safe("\n".join(lines))  # noqa: S308 - every value above is escaped


class ConsoleFormRenderer(DjangoTemplates):
    def render(self, template_name, context, request=None):
        widget = context.get("widget") if template_name == SELECT_TEMPLATE else None
        if widget is not None and all(
            option["template_name"] == OPTION_TEMPLATE
            for _name, options, _index in widget["optgroups"]
            for option in options
        ):
            return select_html(widget)
        return super().render(template_name, context, request=request)
