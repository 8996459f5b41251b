"""Report center screens: the report center, the billing report and statements, the cost report.

Views stay thin: parse the query string with a form, call a selector, render (or stream an
export). Every screen needs the REPORTS permission; rows are scoped to the user's customers by the
selectors; cost figures are shown only to users who may see cost prices.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from customers.models import Customer
from portal.accounts.choices import AccessLevel, PermissionModule
from portal.accounts.permissions import permission_required, user_has_permission, user_sees_cost_prices
from portal.core.htmx import partial_template
from portal.core.tasks import enqueue_on_commit
from reports import rows as export_rows
from reports.billing import billing_cycle_ending_in, last_complete_cycle
from reports.billing_report import billing_bills, billing_summary
from reports.choices import CustomDimension, CustomMeasure, GapKind
from reports.exports import EXPORT_FORMATS, billing_pdf, export_filename, export_response, pdf_response
from reports.forms import (
    BillingDayForm,
    BillingForm,
    CustomReportForm,
    OperationsForm,
    PeriodForm,
    ReconciliationForm,
    SavedReportForm,
    UsageForm,
)
from reports.models import BillingDay
from reports.reconciliation import reconciliation_rows, reconciliation_screen
from reports.selectors import (
    UsageQuery,
    billing_cycle_end_day,
    billing_days,
    cost_overview,
    cost_overview_cached,
    custom_report,
    customer_operations,
    operation_service_cards,
    operation_status_choices,
    operation_statuses,
    report_accounts,
    report_customers,
    saved_report_get,
    saved_reports_of,
    snapshot_day_for,
    snapshot_first_day,
    subscription_history,
    subscription_usage_series,
    tracked_subscription_get,
    usage_by_customer,
    usage_rows,
    user_activity,
    user_activity_actions,
    user_activity_events,
)
from reports.services import (
    ReportActionRefused,
    billing_day_clear,
    billing_day_set,
    saved_report_create,
    saved_report_delete,
    usage_snapshots_refresh_today,
)
from reports.storage import storage_by_customer, storage_of_customer, storage_snapshots_refresh
from reports.tables import ActivityEventTable, ActivityTable, UsageCustomerTable, UsageSubscriptionTable

REPORTS = PermissionModule.REPORTS
VIEW = AccessLevel.VIEW
MANAGE = AccessLevel.MANAGE
PER_PAGE = 50


def _export_format(request: HttpRequest) -> str:
    export_format = request.GET.get("format", "csv")
    if export_format not in EXPORT_FORMATS:
        raise Http404(_("No such export format."))
    return export_format


def _query_without(request: HttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def _page(request: HttpRequest, items, per_page: int = PER_PAGE):
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def _can_manage(user) -> bool:
    return user_has_permission(user, REPORTS, MANAGE)


# -- Report center ------------------------------------------------------------------------------------------------


@permission_required(REPORTS, VIEW)
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "reports/index.html",
        {"sees_cost": user_sees_cost_prices(request.user), "first_snapshot": snapshot_first_day()},
    )


# -- Subscription usage ---------------------------------------------------------------------------------------------


def _usage_request(request: HttpRequest):
    form = UsageForm(request.GET, customers=report_customers(user=request.user), accounts=report_accounts())
    data = form.cleaned_data if form.is_valid() else {}
    query = UsageQuery(
        q=data.get("q") or "",
        customer_id=data["customer"].pk if data.get("customer") else None,
        account_id=data["account"].pk if data.get("account") else None,
        status=data.get("status") or "",
    )
    chosen = data.get("day")
    snapshot_day = snapshot_day_for(chosen) if chosen else None
    view = data.get("view") or "subscriptions"
    return form, query, chosen, snapshot_day, view


@permission_required(REPORTS, VIEW)
@require_GET
def usage(request: HttpRequest) -> HttpResponse:
    form, query, chosen, snapshot_day, view = _usage_request(request)
    missing_history = chosen is not None and snapshot_day is None
    day = snapshot_day if chosen else None
    if view == "customers":
        rows = usage_by_customer(user=request.user, day=day, query=query) if not missing_history else []
        keep = _query_without(request, "page", "sort", "view", "customer")
        table = UsageCustomerTable(
            rows,
            subscriptions_url=f"{reverse('reports:usage')}?{keep}{'&' if keep else ''}view=subscriptions&customer=",
        )
    else:
        rows = usage_rows(user=request.user, day=day, query=query) if not missing_history else []
        table = UsageSubscriptionTable(rows)
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    return render(
        request,
        partial_template(request, "reports/usage.html", "results"),
        {
            "form": form,
            "table": table,
            "view": view,
            "chosen_day": chosen,
            "snapshot_day": snapshot_day,
            "missing_history": missing_history,
            "first_snapshot": snapshot_first_day(),
            "is_filtered": any(request.GET.get(name) for name in ("q", "customer", "account", "status")),
            "export_query": _query_without(request, "page", "sort"),
            "view_query": _query_without(request, "page", "sort", "view"),
        },
    )


@permission_required(REPORTS, VIEW)
@require_GET
def usage_export(request: HttpRequest):
    export_format = _export_format(request)
    _form, query, chosen, snapshot_day, view = _usage_request(request)
    day = snapshot_day if chosen else None
    if chosen and snapshot_day is None:
        header, rows = export_rows.usage_header(view), iter(())
    elif view == "customers":
        header = export_rows.usage_header(view)
        rows = export_rows.usage_customer_rows(usage_by_customer(user=request.user, day=day, query=query))
    else:
        header = export_rows.usage_header(view)
        rows = export_rows.usage_subscription_rows(usage_rows(user=request.user, day=day, query=query))
    stem = f"subscription-usage-{(day or timezone.localdate()).isoformat()}"
    return export_response(
        export_format=export_format, stem=stem, sheet_title=pgettext("report title", "Usage"), header=header, rows=rows
    )


@permission_required(REPORTS, VIEW)
@require_GET
def usage_detail(request: HttpRequest, pk: int) -> HttpResponse:
    tracked = tracked_subscription_get(user=request.user, pk=pk)
    if tracked is None:
        raise Http404(_("No such subscription."))
    series = subscription_usage_series(tracked=tracked)
    chart = {
        "labels": [row["day"].isoformat() for row in series],
        "series": [
            {"label": _("Quantity"), "data": [row["quantity"] for row in series]},
            {"label": _("Assigned"), "data": [row["assigned"] for row in series]},
        ],
    }
    history = subscription_history(tracked=tracked)
    return render(
        request,
        "reports/usage_detail.html",
        {"tracked": tracked, "chart": chart, "history": _page(request, history), "history_count": len(history)},
    )


# -- Customer operations --------------------------------------------------------------------------------------------


def _operations(request: HttpRequest, *, cards: bool = False):
    form = OperationsForm(
        request.GET, customers=report_customers(user=request.user), statuses=operation_status_choices()
    )
    bounds = form.period_bounds()
    if bounds is None:
        return form, None, None, [], []
    start, end = bounds
    data = form.cleaned_data
    customer = data.get("customer")
    scope = {
        "user": request.user,
        "start": start,
        "end": end,
        "customer_id": customer.pk if customer else None,
        "q": data.get("q") or "",
        "status": data.get("status") or "",
    }
    rows = customer_operations(**scope, service=data.get("service") or "")
    return form, start, end, rows, operation_service_cards(**scope) if cards else []


def _period_refused(form) -> HttpResponse:
    """An export of a period the form refused: the reason, not a file of another period."""
    return HttpResponseBadRequest(" ".join(form.non_field_errors()), content_type="text/plain; charset=utf-8")


@permission_required(REPORTS, VIEW)
@require_GET
def operations(request: HttpRequest) -> HttpResponse:
    form, start, end, rows, cards = _operations(request, cards=True)
    statuses = operation_statuses()
    totals = {
        kind: {status: sum(getattr(row, kind).get(status, 0) for row in rows) for status, _label in choices}
        for kind, choices in statuses.items()
    }
    page = _page(request, rows)
    page_rows = [
        (
            row,
            [
                (
                    sum(getattr(row, kind).values()),
                    [getattr(row, kind).get(status, 0) for status, _label in choices],
                )
                for kind, choices in statuses.items()
            ],
        )
        for row in page
    ]
    return render(
        request,
        partial_template(request, "reports/operations.html", "results"),
        {
            "form": form,
            "start": start,
            "end": end,
            "page": page,
            "page_rows": page_rows,
            "row_count": len(rows),
            "statuses": statuses,
            "totals": totals,
            "cards": cards,
            "service": form.cleaned_data.get("service", "") if form.is_valid() else "",
            "card_query": _query_without(request, "page", "service"),
            "export_query": _query_without(request, "page"),
        },
    )


@permission_required(REPORTS, VIEW)
@require_GET
def operations_export(request: HttpRequest):
    export_format = _export_format(request)
    form, start, end, rows, _cards = _operations(request)
    if start is None:
        return _period_refused(form)
    header, lines = export_rows.operations(rows, operation_statuses())
    return export_response(
        export_format=export_format,
        stem=f"customer-operations-{start}-{end}",
        sheet_title=_("Customer operations"),
        header=header,
        rows=lines,
    )


# -- User activity --------------------------------------------------------------------------------------------------


@permission_required(REPORTS, VIEW)
@require_GET
def activity(request: HttpRequest) -> HttpResponse:
    form = PeriodForm(request.GET)
    bounds = form.period_bounds()
    start, end = bounds or (None, None)
    actor = request.GET.get("actor", "").strip()
    context = {
        "form": form,
        "start": start,
        "end": end,
        "actor": actor,
        "export_query": _query_without(request, "page", "sort"),
        "back_query": _query_without(request, "page", "sort", "actor"),
    }
    if bounds is None:
        table = ActivityTable([], actor_url="")
    elif actor:
        table = ActivityEventTable(user_activity_events(user=request.user, start=start, end=end, actor_label=actor))
        context["actions"] = user_activity_actions(user=request.user, start=start, end=end, actor_label=actor)
    else:
        actor_query = _query_without(request, "page", "sort", "actor")
        table = ActivityTable(
            user_activity(user=request.user, start=start, end=end),
            actor_url=f"{reverse('reports:activity')}?{actor_query}{'&' if actor_query else ''}actor=",
        )
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    context["table"] = table
    return render(request, partial_template(request, "reports/activity.html", "results"), context)


@permission_required(REPORTS, VIEW)
@require_GET
def activity_export(request: HttpRequest):
    export_format = _export_format(request)
    form = PeriodForm(request.GET)
    bounds = form.period_bounds()
    if bounds is None:
        return _period_refused(form)
    start, end = bounds
    actor = request.GET.get("actor", "").strip()
    if actor:
        header, rows = export_rows.activity_events(
            user_activity_events(user=request.user, start=start, end=end, actor_label=actor).order_by("-created")
        )
    else:
        header, rows = export_rows.activity(user_activity(user=request.user, start=start, end=end))
    return export_response(
        export_format=export_format,
        stem=f"user-activity-{start}-{end}",
        sheet_title=_("User activity"),
        header=header,
        rows=rows,
    )


# -- Overview cost report -------------------------------------------------------------------------------------------


def _account_filter(request: HttpRequest):
    account_id = request.GET.get("account")
    accounts = report_accounts()
    if account_id and account_id.isdigit():
        return accounts, accounts.filter(pk=int(account_id)).first()
    return accounts, None


@permission_required(REPORTS, VIEW)
@require_GET
def cost(request: HttpRequest) -> HttpResponse:
    accounts, account = _account_filter(request)
    overview = cost_overview_cached(user=request.user, account_id=account.pk if account else None)
    return render(
        request,
        "reports/cost.html",
        {
            "overview": overview,
            "customers": _page(request, overview.by_customer),
            "accounts": accounts,
            "account": account,
            "sees_cost": user_sees_cost_prices(request.user),
            "export_query": _query_without(request, "page"),
        },
    )


@permission_required(REPORTS, VIEW)
@require_GET
def cost_export(request: HttpRequest):
    export_format = _export_format(request)
    _accounts, account = _account_filter(request)
    overview = cost_overview(user=request.user, account_id=account.pk if account else None)
    header, rows = export_rows.cost(overview, sees_cost=user_sees_cost_prices(request.user))
    return export_response(
        export_format=export_format, stem="cost-report", sheet_title=_("Cost report"), header=header, rows=rows
    )


# -- Custom report --------------------------------------------------------------------------------------------------


def _custom_request(request: HttpRequest):
    sees_cost = user_sees_cost_prices(request.user)
    data = request.GET if request.GET.get("dimension") else {"dimension": CustomDimension.CUSTOMER, "measure": "seats"}
    form = CustomReportForm(data, sees_cost=sees_cost)
    if form.is_valid():
        dimension, measure = form.cleaned_data["dimension"], form.cleaned_data["measure"]
        currency = form.cleaned_data.get("currency") or ""
    else:
        dimension, measure, currency = CustomDimension.CUSTOMER, CustomMeasure.SEATS, ""
    report = custom_report(user=request.user, dimension=dimension, measure=measure, currency=currency)
    return form, report, sees_cost


@permission_required(REPORTS, VIEW)
@require_GET
def custom(request: HttpRequest) -> HttpResponse:
    form, report, _sees_cost = _custom_request(request)
    top = report.rows[:9]
    rest = sum((row.value for row in report.rows[9:]), start=report.total * 0)
    chart = {
        "labels": [row.label for row in top] + ([_("Other")] if report.rows[9:] else []),
        "data": [float(row.value) for row in top] + ([float(rest)] if report.rows[9:] else []),
    }
    return render(
        request,
        partial_template(request, "reports/custom.html", "results"),
        {
            "form": form,
            "report": report,
            "chart": chart,
            "rows": _page(request, report.rows),
            "saved_reports": saved_reports_of(user=request.user),
            "save_form": SavedReportForm(initial={"dimension": report.dimension, "measure": report.measure}),
            "dimension_label": CustomDimension(report.dimension).label,
            "measure_label": CustomMeasure(report.measure).label,
            "export_query": _query_without(request, "page"),
        },
    )


@permission_required(REPORTS, VIEW)
@require_GET
def custom_export(request: HttpRequest):
    export_format = _export_format(request)
    _form, report, _sees_cost = _custom_request(request)
    header, rows = export_rows.custom(
        report, CustomDimension(report.dimension).label, CustomMeasure(report.measure).label
    )
    return export_response(
        export_format=export_format,
        stem=f"custom-report-{report.dimension}-{report.measure}",
        sheet_title=_("Custom report"),
        header=header,
        rows=rows,
    )


@permission_required(REPORTS, VIEW)
@require_POST
def custom_save(request: HttpRequest) -> HttpResponse:
    form = SavedReportForm(request.POST)
    if form.is_valid():
        measure = form.cleaned_data["measure"]
        if measure == CustomMeasure.COST and not user_sees_cost_prices(request.user):
            raise PermissionDenied
        try:
            report = saved_report_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                dimension=form.cleaned_data["dimension"],
                measure=measure,
            )
        except ReportActionRefused as refused:
            messages.error(request, refused.message)
        else:
            messages.success(request, _("Report “%(name)s” saved.") % {"name": report.name})
            return redirect(
                f"{reverse('reports:custom')}?{urlencode({'dimension': report.dimension, 'measure': report.measure})}"
            )
    else:
        messages.error(request, _("Give the report a name (at most 100 characters)."))
    query = urlencode({"dimension": request.POST.get("dimension", ""), "measure": request.POST.get("measure", "")})
    return redirect(f"{reverse('reports:custom')}?{query}")


@permission_required(REPORTS, VIEW)
@require_http_methods(["GET", "POST"])
def custom_delete(request: HttpRequest, pk: int) -> HttpResponse:
    report = saved_report_get(user=request.user, pk=pk)
    if report is None:
        raise Http404(_("No such saved report."))
    if request.method == "POST":
        saved_report_delete(actor=request.user, report=report)
        messages.success(request, _("Report “%(name)s” deleted.") % {"name": report.name})
        return redirect("reports:custom")
    return render(request, "reports/custom_delete.html", {"report": report})


# -- Billing --------------------------------------------------------------------------------------------------------


def _billing_request(request: HttpRequest):
    form = BillingForm(request.GET, customers=report_customers(user=request.user), accounts=report_accounts())
    data = form.cleaned_data if form.is_valid() else {}
    customer, account = data.get("customer"), data.get("account")
    cycle_end_day = billing_cycle_end_day(account=account)
    cycles = form.cycles(cycle_end_day=cycle_end_day)
    today = timezone.localdate()
    if any(today in cycle for cycle in cycles):  # "so far" means up to now, not up to the last snapshot
        usage_snapshots_refresh_today()
    return form, customer, account, cycle_end_day, cycles


@permission_required(REPORTS, VIEW)
@require_GET
def billing(request: HttpRequest) -> HttpResponse:
    form, customer, account, cycle_end_day, cycles = _billing_request(request)
    chosen = request.GET.get("cycle", "")
    open_cycle = next((cycle for cycle in cycles if cycle.key == chosen), cycles[-1] if cycles else None)
    summaries = billing_summary(
        user=request.user,
        cycles=cycles,
        customer_id=customer.pk if customer else None,
        account_id=account.pk if account else None,
        customers_of=open_cycle,
        keep_bills=customer is not None,
    )
    opened = next((summary for summary in summaries if summary.cycle == open_cycle), None)
    return render(
        request,
        partial_template(request, "reports/billing.html", "results"),
        {
            "form": form,
            "customer": customer,
            "account": account,
            "cycle_end_day": cycle_end_day,
            "summaries": summaries,
            "opened": opened,
            "customer_page": _page(request, opened.customer_rows) if opened and customer is None else None,
            "sees_cost": user_sees_cost_prices(request.user),
            "can_manage": _can_manage(request.user),
            "export_query": _query_without(request, "page", "cycle"),
            "cycle_query": _query_without(request, "page", "cycle", "customer"),
        },
    )


@permission_required(REPORTS, VIEW)
@require_GET
def billing_export(request: HttpRequest):
    export_format = _export_format(request)
    _form, customer, account, _day, cycles = _billing_request(request)
    bills = billing_bills(
        user=request.user,
        cycles=cycles,
        customer_id=customer.pk if customer else None,
        account_id=account.pk if account else None,
    )
    header, rows = export_rows.billing(bills, sees_cost=user_sees_cost_prices(request.user))
    stem = f"billing-{cycles[0].report_date}" + (f"-{cycles[-1].report_date}" if len(cycles) > 1 else "")
    if customer is not None:
        stem += f"-{customer.name}"
    return export_response(
        export_format=export_format, stem=stem, sheet_title=_("Billing report"), header=header, rows=rows
    )


@permission_required(REPORTS, VIEW)
@require_GET
def billing_pdf_view(request: HttpRequest) -> HttpResponse:
    _form, customer, account, _day, cycles = _billing_request(request)
    if customer is None:
        customer_id = request.GET.get("customer", "")
        if customer_id:  # a customer the user may not see, or none at all
            raise Http404(_("No such customer."))
        messages.info(request, _("Choose a customer to download the PDF of their billing report."))
        return redirect(f"{reverse('reports:billing')}?{_query_without(request, 'page')}")
    with translation.override(customer.preferred_language):  # a customer document speaks the customer's language
        summaries = billing_summary(
            user=request.user,
            cycles=cycles,
            customer_id=customer.pk,
            account_id=account.pk if account else None,
            keep_bills=True,
        )
        content = billing_pdf(partner_name=request.tenant.name, customer=customer, summaries=summaries)
    return pdf_response(filename=export_filename(f"billing-{customer.name}", "pdf"), content=content)


@permission_required(REPORTS, VIEW)
@require_http_methods(["GET", "POST"])
def billing_day(request: HttpRequest) -> HttpResponse:
    accounts = report_accounts()
    partner_day, per_account = billing_days()
    if request.method == "POST":
        if not _can_manage(request.user):
            raise PermissionDenied
        form = BillingDayForm(request.POST, accounts=accounts)
        if form.is_valid():
            account = form.cleaned_data["account"]
            if request.POST.get("clear") and account is not None:
                billing_day_clear(actor=request.user, account=account)
                messages.success(
                    request, _("%(account)s follows the partner's billing day again.") % {"account": account}
                )
            else:
                billing_day_set(actor=request.user, cycle_end_day=form.cleaned_data["cycle_end_day"], account=account)
                messages.success(request, _("Billing day saved."))
            return redirect("reports:billing_day")
    else:
        form = BillingDayForm(initial={"cycle_end_day": partner_day}, accounts=accounts)
    today = timezone.localdate()
    example = last_complete_cycle(today, cycle_end_day=partner_day)
    return render(
        request,
        "reports/billing_day.html",
        {
            "form": form,
            "partner_day": partner_day,
            "account_days": [(account, per_account[account.pk]) for account in accounts if account.pk in per_account],
            "example": example,
            "can_manage": _can_manage(request.user),
            "has_partner_row": BillingDay.objects.filter(account__isnull=True).exists(),
        },
    )


# -- Reconciliation -------------------------------------------------------------------------------------------------


def _reconciliation_request(request: HttpRequest):
    form = ReconciliationForm(request.GET, customers=report_customers(user=request.user), accounts=report_accounts())
    data = form.cleaned_data if form.is_valid() else {}
    customer, account = data.get("customer"), data.get("account")
    cycle_end_day = billing_cycle_end_day(account=account)
    month = data.get("month")
    if month:
        cycle = billing_cycle_ending_in(month.year, month.month, cycle_end_day=cycle_end_day)
    else:
        cycle = last_complete_cycle(timezone.localdate(), cycle_end_day=cycle_end_day)
    return form, customer, account, cycle, data.get("gap") or ""


@permission_required(REPORTS, VIEW)
@require_GET
def reconciliation(request: HttpRequest) -> HttpResponse:
    form, customer, account, cycle, gap = _reconciliation_request(request)
    result, counts = reconciliation_screen(
        user=request.user,
        cycle=cycle,
        per_page=PER_PAGE,
        customer_id=customer.pk if customer else None,
        account_id=account.pk if account else None,
        gap=gap,
    )
    return render(
        request,
        partial_template(request, "reports/reconciliation.html", "results"),
        {
            "form": form,
            "result": result,
            "cycle": cycle,
            "page": _page(request, result.rows),
            "counts": counts,
            "gap_kinds": GapKind.choices,
            "sees_cost": user_sees_cost_prices(request.user),
            "can_manage": _can_manage(request.user),
            "export_query": _query_without(request, "page"),
            "month_value": cycle.end.strftime("%Y-%m"),
        },
    )


@permission_required(REPORTS, VIEW)
@require_GET
def reconciliation_export(request: HttpRequest):
    export_format = _export_format(request)
    _form, customer, account, cycle, gap = _reconciliation_request(request)
    result = reconciliation_rows(
        user=request.user,
        cycle=cycle,
        customer_id=customer.pk if customer else None,
        account_id=account.pk if account else None,
        gap=gap,
    )
    header, rows = export_rows.reconciliation(result, sees_cost=user_sees_cost_prices(request.user))
    return export_response(
        export_format=export_format,
        stem=f"reconciliation-{cycle.report_date}",
        sheet_title=_("Reconciliation"),
        header=header,
        rows=rows,
    )


@permission_required(REPORTS, MANAGE)
def reconciliation_fetch(request: HttpRequest) -> HttpResponse:
    """Fetch the marketplace invoices of the cycle (every account, or the chosen one) in the background."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    from reports.tasks import invoice_lines_fetch

    form = ReconciliationForm(request.POST, customers=Customer.objects.none(), accounts=report_accounts())
    if not form.is_valid():
        raise Http404
    account = form.cleaned_data.get("account")
    cycle_end_day = billing_cycle_end_day(account=account)
    month = form.cleaned_data.get("month")
    if month:
        cycle = billing_cycle_ending_in(month.year, month.month, cycle_end_day=cycle_end_day)
    else:
        cycle = last_complete_cycle(timezone.localdate(), cycle_end_day=cycle_end_day)
    accounts = [account] if account is not None else list(report_accounts())
    for target in accounts:
        enqueue_on_commit(
            invoice_lines_fetch,
            account_id=target.pk,
            period_start=cycle.start.isoformat(),
            period_end=cycle.end.isoformat(),
            actor_id=request.user.pk,
        )
    messages.success(
        request,
        _("Fetching the invoices of %(count)s marketplace account(s) for %(start)s – %(end)s; reload in a moment.")
        % {"count": len(accounts), "start": cycle.start, "end": cycle.end},
    )
    query = {"month": cycle.end.strftime("%Y-%m")}
    if account is not None:
        query["account"] = account.pk
    return redirect(f"{reverse('reports:reconciliation')}?{urlencode(query)}")


# -- Storage consumption ----------------------------------------------------------------------------------------------

GIB = 1024**3


@permission_required(REPORTS, VIEW)
@require_http_methods(["GET", "POST"])
def storage(request: HttpRequest) -> HttpResponse:
    """The storage consumption report: a summary of every customer's storage and a card per customer.
    POST (managers) reads Microsoft Graph's usage reports now instead of waiting for the nightly run."""
    if request.method == "POST":
        if not _can_manage(request.user):
            raise PermissionDenied
        refreshed = storage_snapshots_refresh()
        messages.success(
            request,
            _("Storage of %(count)s tenant(s) read from Microsoft Graph.") % {"count": refreshed.tenants},
        )
        for tenant, reason in refreshed.failures.items():
            messages.warning(request, _("%(tenant)s: %(reason)s") % {"tenant": tenant, "reason": reason})
        return redirect("reports:storage")
    summary, cards = storage_by_customer(user=request.user)
    page = _page(request, cards, per_page=24)
    return render(
        request,
        partial_template(request, "reports/storage.html", "results"),
        {"summary": summary, "page": page, "can_manage": _can_manage(request.user)},
    )


@permission_required(REPORTS, VIEW)
@require_GET
def storage_customer(request: HttpRequest, pk: int) -> HttpResponse:
    customer = report_customers(user=request.user).filter(pk=pk).first()
    if customer is None:
        raise Http404(_("No such customer."))
    tenants = storage_of_customer(customer=customer)
    days = sorted({snapshot.day for _tenant, snapshots in tenants for snapshot in snapshots})
    totals = {day: [0, 0, 0] for day in days}
    for _tenant, snapshots in tenants:
        for snapshot in snapshots:
            row = totals[snapshot.day]
            row[0] += snapshot.mailbox_bytes
            row[1] += snapshot.onedrive_bytes
            row[2] += snapshot.sharepoint_bytes
    chart = {
        "labels": [day.isoformat() for day in days],
        "unit": "GiB",
        "series": [
            {"label": label, "data": [round(totals[day][index] / GIB, 2) for day in days]}
            for index, label in enumerate((_("Mailboxes"), _("OneDrive"), _("SharePoint")))
        ],
    }
    return render(
        request,
        "reports/storage_customer.html",
        {
            "customer": customer,
            "tenants": [(tenant, snapshots[-1] if snapshots else None) for tenant, snapshots in tenants],
            "chart": chart,
        },
    )
