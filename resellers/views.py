"""The reseller directory of a large account reseller: list, single and batch invite, map, delete,
customer visibility. Every screen is a 404 at a partner that is not a LAR. Views stay thin."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from portal.accounts.choices import AccessLevel, PermissionModule
from portal.accounts.permissions import permission_required, user_has_permission
from portal.accounts.services import user_preference_set
from portal.core.htmx import partial_template
from portal.partners.models import Partner
from resellers.batch import (
    UPLOAD_LIMITS,
    XLSX_CONTENT_TYPE,
    BatchFileUnreadable,
    batch_file_read,
    batch_rows_classify,
    batch_template_csv,
    batch_template_xlsx,
)
from resellers.choices import BatchRowResult, CandidateMatch, ResellerStatus
from resellers.filters import ResellerFilterSet
from resellers.forms import (
    BatchConfirmForm,
    BatchUploadForm,
    InviteEmailForm,
    InvitePartnerForm,
    InviteSearchForm,
    MapForm,
    TypedConfirmationForm,
    batch_payload_sign,
)
from resellers.listing import ColumnsForm, chosen_columns, filter_chips, large_account_reseller_required
from resellers.selectors import reseller_candidates, resellers_of
from resellers.services import (
    reseller_active_pool_count,
    reseller_batch_invite,
    reseller_customer_visibility_set,
    reseller_delete,
    reseller_invite,
    reseller_invite_by_email,
    reseller_map,
)
from resellers.tables import COLUMNS_PREFERENCE, DEFAULT_COLUMNS, optional_columns, reseller_table

RESELLERS = PermissionModule.RESELLERS
VIEW = AccessLevel.VIEW
MANAGE = AccessLevel.MANAGE
PER_PAGE = 25


def _can_manage(user) -> bool:
    return user_has_permission(user, RESELLERS, MANAGE)


def _link_or_404(request: HttpRequest, pk: int):
    return get_object_or_404(resellers_of(large_account_reseller=request.tenant), pk=pk)


def _refusal(error: ValidationError) -> str:
    return " ".join(error.messages)


# -- directory ------------------------------------------------------------------------------------


@permission_required(RESELLERS, VIEW)
@large_account_reseller_required
@require_GET
def directory(request: HttpRequest) -> HttpResponse:
    queryset = resellers_of(large_account_reseller=request.tenant)
    filterset = ResellerFilterSet(request.GET or None, queryset=queryset)
    known = [name for name, _label in optional_columns()]
    columns = chosen_columns(request.user.preferences, COLUMNS_PREFERENCE, known=known, default=DEFAULT_COLUMNS)
    table = reseller_table(filterset.qs, columns=columns, request=request, can_manage=_can_manage(request.user))
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    context = {
        "filterset": filterset,
        "chips": filter_chips(filterset.form, request.GET),
        "table": table,
        "columns_form": ColumnsForm(
            initial={"columns": columns, "query": request.GET.urlencode()}, choices=optional_columns()
        ),
        "can_manage": _can_manage(request.user),
        "total": queryset.count(),
    }
    return render(request, partial_template(request, "resellers/directory.html", "results"), context)


@permission_required(RESELLERS, VIEW)
@large_account_reseller_required
@require_POST
def directory_columns(request: HttpRequest) -> HttpResponse:
    form = ColumnsForm(request.POST, choices=optional_columns())
    query = ""
    if form.is_valid():
        user_preference_set(user=request.user, key=COLUMNS_PREFERENCE, value=form.cleaned_data["columns"])
        messages.success(request, _("Your columns were saved."))
        query = form.cleaned_data["query"]
    else:
        messages.error(request, _("Those columns are not available."))
    url = reverse("resellers:directory")
    return HttpResponseRedirect(f"{url}?{query}" if query else url)


# -- single invite --------------------------------------------------------------------------------


@permission_required(RESELLERS, MANAGE)
@large_account_reseller_required
@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest) -> HttpResponse:
    """Search (GET, email then domain and name), then invite a found partner (POST)."""
    search_form = InviteSearchForm(request.GET if "email" in request.GET else None)
    search = None
    if request.method == "POST":
        form = InvitePartnerForm(request.POST)
        if form.is_valid():
            try:
                link = reseller_invite(
                    actor=request.user,
                    large_account_reseller=request.tenant,
                    reseller=form.cleaned_data["partner"],
                    organisation_name=form.cleaned_data["organisation_name"],
                )
            except ValidationError as error:
                messages.error(request, _refusal(error))
            else:
                messages.success(
                    request,
                    _("%(name)s was invited. It appears as Pending acceptance until it answers.")
                    % {"name": link.display_name},
                )
                return redirect("resellers:directory")
        else:
            messages.error(request, _("Choose a reseller from the search results."))
    if search_form.is_bound and search_form.is_valid():
        search = reseller_candidates(
            large_account_reseller=request.tenant,
            email=search_form.cleaned_data["email"],
            organisation_name=search_form.cleaned_data["organisation_name"],
        )
    context = {"search_form": search_form, "search": search, "match": CandidateMatch}
    return render(request, partial_template(request, "resellers/invite.html", "results"), context)


@permission_required(RESELLERS, MANAGE)
@large_account_reseller_required
@require_POST
def invite_email(request: HttpRequest) -> HttpResponse:
    """Nobody found: send the address an invitation to sign up (status Unmapped until mapped)."""
    form = InviteEmailForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a valid email address."))
        return redirect("resellers:invite")
    try:
        reseller_invite_by_email(
            actor=request.user,
            large_account_reseller=request.tenant,
            email=form.cleaned_data["email"],
            organisation_name=form.cleaned_data["organisation_name"],
        )
    except ValidationError as error:
        messages.error(request, _refusal(error))
        return redirect(reverse("resellers:invite") + "?" + request.POST.urlencode())
    messages.success(
        request,
        _("An invitation to sign up was sent to %(email)s. Map the reseller once it is registered.")
        % {"email": form.cleaned_data["email"]},
    )
    return redirect("resellers:directory")


# -- batch invite ---------------------------------------------------------------------------------


@permission_required(RESELLERS, MANAGE)
@large_account_reseller_required
@require_GET
def batch_template_xlsx_download(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(batch_template_xlsx(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="reseller-invitations.xlsx"'
    return response


@permission_required(RESELLERS, MANAGE)
@large_account_reseller_required
@require_GET
def batch_template_csv_download(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(batch_template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="reseller-invitations.csv"'
    return response


def _batch_counts(rows) -> dict[str, int]:
    counts = {result: 0 for result in BatchRowResult.values}
    for row in rows:
        counts[row.result] += 1
    return counts


@permission_required(RESELLERS, MANAGE)
@large_account_reseller_required
@require_http_methods(["GET", "POST"])
def batch_invite(request: HttpRequest) -> HttpResponse:
    """Upload the filled template and see each row's result; nothing is invited on this step."""
    form = BatchUploadForm(request.POST or None, request.FILES or None)
    context = {"form": form, "rows": None}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            read = batch_file_read(name=upload.name, content=upload.read(UPLOAD_LIMITS.file_bytes + 1))
        except BatchFileUnreadable as error:
            form.add_error("file", str(error))
        else:
            rows = batch_rows_classify(large_account_reseller=request.tenant, rows=read)
            # every row goes back to the confirmation, so the rows it skips are counted and explained there too
            every_row = [(row.line, row.organisation_name, row.email) for row in rows]
            actionable = [row for row in rows if row.is_actionable]
            context.update(
                rows=rows,
                counts=_batch_counts(rows),
                confirm_form=BatchConfirmForm(
                    initial={
                        "payload": batch_payload_sign(every_row),
                        "send_email": form.cleaned_data["send_email"],
                    }
                ),
                actionable=len(actionable),
                file_name=upload.name,
            )
    if request.method == "POST" and context["rows"] is None:
        messages.error(request, _("Nothing was invited. Correct the file and upload it again."))
    return render(request, "resellers/batch_invite.html", {**context, "result": BatchRowResult})


@permission_required(RESELLERS, MANAGE)
@large_account_reseller_required
@require_POST
def batch_confirm(request: HttpRequest) -> HttpResponse:
    form = BatchConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("payload", [_("Upload the file again.")])))
        return redirect("resellers:batch_invite")
    rows = [(line, name, email) for line, name, email in form.cleaned_data["payload"]]
    result = reseller_batch_invite(
        actor=request.user,
        large_account_reseller=request.tenant,
        rows=rows,
        send_email=form.cleaned_data["send_email"],
    )
    messages.success(
        request,
        _("%(invited)s reseller(s) invited, %(emailed)s invitation email(s) sent, %(skipped)s row(s) skipped.")
        % {"invited": len(result.invited), "emailed": len(result.emailed), "skipped": len(result.skipped)},
    )
    if result.skipped:
        messages.warning(
            request,
            _("Skipped: %(rows)s")
            % {
                "rows": "; ".join(
                    _("line %(line)s (%(email)s): %(reason)s")
                    % {"line": row.line, "email": row.email or "-", "reason": row.message or row.result_label}
                    for row in result.skipped
                )
            },
        )
    return redirect("resellers:directory")


# -- map, delete, visibility ----------------------------------------------------------------------


@permission_required(RESELLERS, MANAGE)
@large_account_reseller_required
@require_http_methods(["GET", "POST"])
def reseller_map_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Map an unmapped reseller to the partner that signed up, found like a single invite."""
    link = _link_or_404(request, pk)
    if link.status != ResellerStatus.UNMAPPED:
        messages.error(request, _("Only an unmapped reseller can be mapped."))
        return redirect("resellers:directory")
    search_form = InviteSearchForm(
        request.GET if "email" in request.GET else {"email": link.email, "organisation_name": link.organisation_name}
    )
    search = None
    if search_form.is_valid():
        search = reseller_candidates(
            large_account_reseller=request.tenant,
            email=search_form.cleaned_data["email"],
            organisation_name=search_form.cleaned_data["organisation_name"],
        )
    invitable = [candidate.partner.pk for candidate in (search.candidates if search else []) if candidate.invitable]
    partners = Partner.objects.filter(pk__in=invitable).order_by("name")
    form = MapForm(request.POST or None, partners=partners)
    if request.method == "POST":
        # the choices are what the search shows; a posted partner outside them is refused by the form
        if form.is_valid():
            try:
                reseller_map(actor=request.user, link=link, reseller=form.cleaned_data["partner"])
            except ValidationError as error:
                form.add_error(None, _refusal(error))
            else:
                messages.success(request, _("%(name)s is mapped.") % {"name": link.display_name})
                return redirect("resellers:directory")
        messages.error(request, _("The reseller was not mapped."))
    context = {"link": link, "search_form": search_form, "search": search, "form": form}
    return render(request, "resellers/map.html", context)


@permission_required(RESELLERS, MANAGE)
@large_account_reseller_required
@require_http_methods(["GET", "POST"])
def reseller_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    link = _link_or_404(request, pk)
    form = TypedConfirmationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reseller_delete(actor=request.user, link=link, confirmation=form.cleaned_data["confirmation"])
        except ValidationError as error:
            form.add_error("confirmation" if error.code == "confirmation" else None, _refusal(error))
        else:
            messages.success(request, _("%(name)s was removed from your reseller directory.") % {"name": link})
            return redirect("resellers:directory")
    context = {"link": link, "form": form, "active_pools": reseller_active_pool_count(link=link)}
    status = 400 if request.method == "POST" else 200
    return render(request, "resellers/delete.html", context, status=status)


@permission_required(RESELLERS, MANAGE)
@large_account_reseller_required
def visibility_off(request: HttpRequest, pk: int) -> HttpResponse:
    """The LAR turns "View reseller's customers" off (only the reseller can turn it back on)."""
    link = _link_or_404(request, pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        reseller_customer_visibility_set(actor=request.user, partner=request.tenant, link=link, visible=False)
    except ValidationError as error:
        messages.error(request, _refusal(error))
    else:
        messages.success(request, _("%(name)s's customer names are hidden from you now.") % {"name": link.display_name})
    return redirect("resellers:directory")
