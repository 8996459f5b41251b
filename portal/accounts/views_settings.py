"""Settings hub and helpers shared by the Settings screens."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from portal.accounts.choices import AccessLevel, PermissionModule
from portal.accounts.models import Role
from portal.accounts.permissions import permission_required, user_has_permission
from portal.accounts.selectors import customer_groups_with_counts, users_with_status
from portal.partners.forms import PartnerLocaleForm
from portal.partners.selectors import partner_current
from portal.partners.services import partner_locale_update

PAGE_SIZE = 25


def paginate(request: HttpRequest, queryset, per_page: int = PAGE_SIZE) -> Page:
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def can_manage_settings(request: HttpRequest) -> bool:
    return user_has_permission(request.user, PermissionModule.SETTINGS, AccessLevel.MANAGE)


def settings_context(request: HttpRequest, section: str, **extra) -> dict:
    """What every Settings screen's layout needs: the active sub-navigation item and the user's level."""
    return {"settings_section": section, "can_manage": can_manage_settings(request), **extra}


def form_add_service_error(form, error: ValidationError) -> None:
    """A service's refusal shown on the form: on the field it names, or above the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def service_error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


@permission_required(PermissionModule.SETTINGS, AccessLevel.VIEW)
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    statuses = list(users_with_status().values_list("status", flat=True))
    context = settings_context(
        request,
        "index",
        user_count=len(statuses),
        status_counts={status: statuses.count(status) for status in set(statuses)},
        role_count=Role.objects.count(),
        group_count=customer_groups_with_counts().count(),
    )
    return render(request, "settings/index.html", context)


@permission_required(PermissionModule.SETTINGS, AccessLevel.VIEW)
@require_http_methods(["GET", "POST"])
def language_region(request: HttpRequest) -> HttpResponse:
    """Settings > Language and region: the partner's defaults for new users."""
    partner = partner_current()
    form = PartnerLocaleForm(request.POST or None, instance=partner)
    if request.method == "POST":
        if not can_manage_settings(request):
            raise PermissionDenied
        if form.is_valid():
            try:
                partner_locale_update(actor=request.user, partner=partner, **form.cleaned_data)
            except ValidationError as error:
                form_add_service_error(form, error)
            else:
                messages.success(request, _("The defaults for new users were saved."))
                return redirect("settings:language_region")
    return render(request, "settings/language_region.html", settings_context(request, "language_region", form=form))
