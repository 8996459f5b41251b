"""Settings hub and helpers shared by the Settings screens."""

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.accounts.choices import AccessLevel, PermissionModule
from portal.accounts.models import Role
from portal.accounts.permissions import permission_required, user_has_permission
from portal.accounts.selectors import customer_groups_with_counts, users_with_status

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


def htmx_template(request: HttpRequest, template: str, partial: str) -> str:
    if request.htmx and not request.htmx.boosted:
        return f"{template}#{partial}"
    return template


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
