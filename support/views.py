"""Help > Submit feedback (every signed-in user), Settings > Feedback management and the
troubleshooting profile (partner users with the Settings module)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from portal.accounts.choices import AccessLevel, PermissionModule
from portal.accounts.permissions import permission_required
from portal.accounts.views_settings import can_manage_settings, form_add_service_error, settings_context
from portal.core.exports import csv_lines
from portal.core.htmx import partial_template
from support.forms import (
    FeedbackFilterForm,
    FeedbackForm,
    FeedbackReplyForm,
    FeedbackStatusForm,
    TroubleshootingAddressForm,
)
from support.models import TroubleshootingAddress
from support.selectors import feedback_get, feedback_list, feedback_of
from support.services import (
    feedback_reply,
    feedback_status_set,
    feedback_submit,
    troubleshooting_address_add,
    troubleshooting_address_remove,
)

SETTINGS = PermissionModule.SETTINGS
PER_PAGE = 25


@login_required
@require_http_methods(["GET", "POST"])
def feedback_submit_view(request: HttpRequest) -> HttpResponse:
    form = FeedbackForm(request.POST or None, initial={"page": request.GET.get("page", "")})
    if request.method == "POST" and form.is_valid():
        try:
            feedback_submit(
                actor=request.user,
                category=form.cleaned_data["category"],
                subject=form.cleaned_data["subject"],
                message=form.cleaned_data["message"],
                page=form.cleaned_data["page"],
            )
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(request, _("Thank you: your feedback was sent."))
            return redirect("help:feedback")
    sent = Paginator(feedback_of(user=request.user), 10).get_page(request.GET.get("page_sent"))
    return render(request, "support/feedback_submit.html", {"form": form, "sent": sent})


def _feedback_filtered(request: HttpRequest):
    form = FeedbackFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    rows = feedback_list(status=data.get("status") or "", category=data.get("category") or "", q=data.get("q") or "")
    return form, rows


@permission_required(SETTINGS, AccessLevel.VIEW)
@require_GET
def feedback_management(request: HttpRequest) -> HttpResponse:
    form, rows = _feedback_filtered(request)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    context = settings_context(request, "feedback", form=form, page=page, export_query=request.GET.urlencode())
    return render(request, partial_template(request, "support/feedback_list.html", "results"), context)


@permission_required(SETTINGS, AccessLevel.VIEW)
@require_GET
def feedback_export(request: HttpRequest) -> StreamingHttpResponse:
    _form, rows = _feedback_filtered(request)
    header = [
        _("Submitted"),
        _("From"),
        _("Email"),
        _("Customer"),
        _("Category"),
        _("Status"),
        _("Subject"),
        _("Message"),
    ]
    lines = (
        [
            row.created,
            row.author_label,
            row.author_email,
            row.customer.name if row.customer else "",
            row.get_category_display(),
            row.get_status_display(),
            row.subject,
            row.message,
        ]
        for row in rows.iterator()
    )
    response = StreamingHttpResponse(csv_lines(header, lines), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="feedback.csv"'
    return response


@permission_required(SETTINGS, AccessLevel.VIEW)
@require_http_methods(["GET", "POST"])
def feedback_detail(request: HttpRequest, pk: int) -> HttpResponse:
    feedback = feedback_get(pk=pk)
    if feedback is None:
        raise Http404(_("No such feedback."))
    status_form = FeedbackStatusForm(initial={"status": feedback.status})
    reply_form = FeedbackReplyForm()
    if request.method == "POST":
        if not can_manage_settings(request):
            raise PermissionDenied
        if "status" in request.POST:
            status_form = FeedbackStatusForm(request.POST)
            if status_form.is_valid():
                feedback_status_set(actor=request.user, feedback=feedback, status=status_form.cleaned_data["status"])
                messages.success(request, _("Status saved."))
                return redirect("settings:feedback_detail", pk=feedback.pk)
        else:
            reply_form = FeedbackReplyForm(request.POST)
            if reply_form.is_valid():
                try:
                    feedback_reply(actor=request.user, feedback=feedback, message=reply_form.cleaned_data["message"])
                except ValidationError as error:
                    form_add_service_error(reply_form, error)
                else:
                    messages.success(
                        request, _("Your reply was emailed to %(email)s.") % {"email": feedback.author_email}
                    )
                    return redirect("settings:feedback_detail", pk=feedback.pk)
    context = settings_context(request, "feedback", feedback=feedback, status_form=status_form, reply_form=reply_form)
    return render(request, "support/feedback_detail.html", context)


@permission_required(SETTINGS, AccessLevel.VIEW)
@require_http_methods(["GET", "POST"])
def troubleshooting_profile(request: HttpRequest) -> HttpResponse:
    form = TroubleshootingAddressForm(request.POST or None)
    if request.method == "POST":
        if not can_manage_settings(request):
            raise PermissionDenied
        if form.is_valid():
            try:
                troubleshooting_address_add(actor=request.user, email=form.cleaned_data["email"])
            except ValidationError as error:
                form_add_service_error(form, error)
            else:
                messages.success(request, _("%(email)s added.") % {"email": form.cleaned_data["email"]})
                return redirect("settings:troubleshooting")
    context = settings_context(request, "troubleshooting", form=form, addresses=TroubleshootingAddress.objects.all())
    return render(request, "support/troubleshooting.html", context)


@permission_required(SETTINGS, AccessLevel.VIEW)
@require_http_methods(["GET", "POST"])
def troubleshooting_remove(request: HttpRequest, pk: int) -> HttpResponse:
    address = get_object_or_404(TroubleshootingAddress, pk=pk)
    if not can_manage_settings(request):
        raise PermissionDenied
    if request.method == "POST":
        troubleshooting_address_remove(actor=request.user, address=address)
        messages.success(request, _("%(email)s removed.") % {"email": address.email})
        return redirect("settings:troubleshooting")
    return render(
        request,
        "settings/confirm.html",
        settings_context(
            request,
            "troubleshooting",
            title=_("Remove %(email)s?") % {"email": address.email},
            message=_("It is no longer copied on support emails about your customers."),
            button_label=_("Remove"),
            cancel_url=reverse("settings:troubleshooting"),
        ),
    )
