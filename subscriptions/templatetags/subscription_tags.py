"""One row of the subscription list, written in Python.

A page holds 50 subscriptions of up to 14 columns each; through the template engine their cells
took most of the page's time. The markup is the one the list's template wrote per cell.
"""

from django import template
from django.template.defaultfilters import date as date_filter_naive
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import gettext, ngettext

from catalog.templatetags.catalog_tags import money

register = template.Library()

DASH = "—"


def date_filter(value, format_name: str) -> str:
    """The `date` template filter, local time first as templates do."""
    return date_filter_naive(template_localtime(value), format_name)


STATUS_BADGES = {"active": "text-bg-success", "suspended": "text-bg-warning", "pending": "text-bg-info"}


def status_badge(subscription) -> SafeString:
    """What `subscriptions/partials/status_badge.html` shows."""
    badge = format_html(
        '<span class="badge {}">{}</span>',
        STATUS_BADGES.get(subscription.status, "text-bg-secondary"),
        subscription.get_status_display(),
    )
    if subscription.scheduled_termination_date:
        badge += format_html(
            ' <span class="badge text-bg-light border text-wrap text-start" title="{}">{}</span>',
            gettext("Ends with its term"),
            gettext("Ends %(date)s") % {"date": date_filter(subscription.scheduled_termination_date, "DATE_FORMAT")},
        )
    return badge


def _name_cell(row, detail_url: str) -> SafeString:
    subscription = row.subscription
    friendly_name = row.friendly_name
    parts = [
        format_html(
            '<a href="{}" class="fw-semibold text-decoration-none">{}</a>',
            detail_url,
            friendly_name or subscription.name,
        )
    ]
    if subscription.trial:
        parts.append(
            format_html('<span class="badge text-bg-info ms-1" data-testid="trial">{}</span>', gettext("Trial"))
        )
    if friendly_name:
        parts.append(format_html('<div class="text-body-secondary">{}</div>', subscription.name))
    if row.po_number:
        parts.append(
            format_html(
                '<div class="text-body-secondary small" data-testid="po-number">{} {}</div>',
                gettext("PO"),
                row.po_number,
            )
        )
    parts.extend(
        format_html(
            '<div class="text-warning-emphasis" data-testid="scheduled-change"><i class="bi bi-calendar-event me-1" '
            'aria-hidden="true"></i>{}</div>',
            gettext("Decrease to %(quantity)s at renewal on %(date)s")
            % {"quantity": change.quantity, "date": date_filter(change.effective_on, "DATE_FORMAT")},
        )
        for change in row.scheduled
    )
    return format_html('<td class="ps-4">{}</td>', mark_safe("\n".join(parts)))  # noqa: S308 - parts are escaped


def _money_or_trial(subscription, amount, *, formatted) -> SafeString | str:
    # a trial costs nothing yet: a dash that says so (the Trial badge is by its name), not the word in every column
    if subscription.trial:
        return format_html('<span class="text-body-secondary" title="{}">{}</span>', gettext("Trial"), DASH)
    if amount is None:
        return DASH
    return formatted(amount)


def _cell(column_key: str, row, detail_url: str, editable: bool) -> SafeString | str:
    subscription = row.subscription
    row_money = row.money
    if column_key == "renewal":
        if not subscription.term_end:
            return DASH
        renews = ""
        if subscription.auto_renew:
            label = gettext("Renews automatically")
            renews = format_html(' <i class="bi bi-arrow-repeat" title="{}" aria-label="{}"></i>', label, label)
        return format_html(
            '<span class="text-nowrap">{}</span>{}', date_filter(subscription.term_end, "SHORT_DATE_FORMAT"), renews
        )
    if column_key == "assigned":
        if subscription.assigned is None:
            return format_html(
                '<span class="text-body-secondary" title="{}">{}</span>',
                gettext("The marketplace does not report assigned seats"),
                DASH,
            )
        return str(subscription.assigned)
    if column_key == "purchased":
        if not editable:
            return str(subscription.quantity)
        return format_html(
            '<input type="number" min="1" name="q-{pk}" value="{quantity}" class="form-control form-control-sm '
            'text-end d-inline-block w-5rem" aria-label="{label}">'
            '<input type="hidden" name="o-{pk}" value="{quantity}">'
            '<input type="hidden" name="v-{pk}" value="{version}">',
            pk=subscription.pk,
            quantity=subscription.quantity,
            label=gettext("Quantity of %(name)s") % {"name": subscription.name},
            version=row.version,
        )
    if column_key == "add_ons":
        if subscription.add_ons:
            count = len(subscription.add_ons)
            return format_html(
                '<a href="{}?tab=add_ons">{}</a>',
                detail_url,
                ngettext("%(counter)s add-on", "%(counter)s add-ons", count) % {"counter": count},
            )
        return format_html(
            '<a class="text-body-secondary" href="{}?tab=add_ons">{}</a>', detail_url, gettext("Add-on products")
        )
    if column_key == "vendor":
        return (subscription.offer.vendor if subscription.offer else "") or DASH
    if column_key == "offer_id":
        return format_html('<code class="small" data-testid="offer-id">{}</code>', subscription.offer_external_id)
    if column_key == "type":
        usage = subscription.offer and subscription.offer.charge_type == "usage"
        return gettext("Usage") if usage else gettext("Licence")
    if column_key == "billing_cycle":
        cycle = subscription.get_billing_cycle_display()
        return f"{cycle} · {subscription.term}" if subscription.term else cycle
    if column_key == "unit_cost":
        return _money_or_trial(
            subscription, row_money.monthly_unit_cost, formatted=lambda amount: money(amount, row_money.currency)
        )
    if column_key in ("monthly_cost", "yearly_cost", "monthly_price", "yearly_price"):
        return _money_or_trial(
            subscription, getattr(row_money, column_key), formatted=lambda amount: money(amount, row_money.currency)
        )
    if column_key == "marketplace":
        return subscription.account.get_marketplace_display()
    if column_key == "customer":
        return subscription.customer_tenant.customer.name
    if column_key == "status":
        return status_badge(subscription)
    return ""


@register.simple_tag
def subscription_row(row, columns, can_act: bool, can_request: bool) -> SafeString:
    """The `<tr>` of one subscription in the chosen columns."""
    subscription = row.subscription
    detail_url = reverse("subscriptions:subscription_detail", args=[subscription.pk])
    editable = row.can_change_quantity and (can_act or can_request)
    cells = format_html_join(
        "\n",
        "<td{}>{}</td>",
        (
            (
                mark_safe(' class="text-end text-nowrap"') if column.numeric else "",
                _cell(column.key, row, detail_url, editable),
            )
            for column in columns
        ),
    )
    return format_html(
        '<tr data-subscription="{}">\n{}\n{}\n</tr>', subscription.pk, _name_cell(row, detail_url), cells
    )


@register.simple_tag
def choice_options(choices, selected: str = "") -> SafeString:
    """`<option>`s of (value, label) pairs, the one whose value is `selected` selected: a filter's list
    of every customer is thousands of options for a large partner."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, mark_safe(" selected") if str(value) == selected else "", label) for value, label in choices),
    )
