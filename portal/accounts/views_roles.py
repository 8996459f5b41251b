"""Settings > Roles: the built-in Administrators role (read-only) and custom roles."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from portal.accounts.choices import AccessLevel, PermissionModule
from portal.accounts.forms_settings import RoleForm
from portal.accounts.permissions import permission_required
from portal.accounts.selectors import roles_with_user_counts
from portal.accounts.services import role_create, role_delete, role_update, user_role_add
from portal.accounts.views_settings import (
    can_manage_settings,
    form_add_service_error,
    paginate,
    service_error_text,
    settings_context,
)
from portal.core.htmx import partial_template


@permission_required(PermissionModule.SETTINGS, AccessLevel.VIEW)
@require_GET
def role_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request, roles_with_user_counts())
    rows = [
        (
            role,
            [(label, role.level_for(module)) for module, label in PermissionModule.choices if role.level_for(module)],
        )
        for role in page.object_list
    ]
    context = settings_context(request, "roles", page=page, rows=rows)
    return render(request, partial_template(request, "settings/role_list.html", "results"), context)


@permission_required(PermissionModule.SETTINGS, AccessLevel.MANAGE)
@require_http_methods(["GET", "POST"])
def role_create_view(request: HttpRequest) -> HttpResponse:
    form = RoleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            role = role_create(actor=request.user, **form.service_arguments())
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(request, _("The role %(name)s is created.") % {"name": role.name})
            return redirect("settings:role_list")
    return render(request, "settings/role_form.html", settings_context(request, "roles", form=form, role=None))


@permission_required(PermissionModule.SETTINGS, AccessLevel.VIEW)
@require_http_methods(["GET", "POST"])
def role_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The role's page: editable for settings managers, read-only for viewers and the built-in role."""
    role = get_object_or_404(roles_with_user_counts(), pk=pk)
    read_only = role.is_builtin or not can_manage_settings(request)
    if request.method == "POST" and read_only:
        raise PermissionDenied
    form = RoleForm(request.POST or None, role=role)
    if read_only:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            role = role_update(actor=request.user, role=role, **form.service_arguments())
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(request, _("The role %(name)s is saved.") % {"name": role.name})
            return redirect("settings:role_list")
    candidates = (
        get_user_model().objects.filter(is_active=True).exclude(roles=role).order_by("username")
        if can_manage_settings(request)
        else get_user_model().objects.none()
    )
    context = settings_context(
        request,
        "roles",
        form=form,
        role=role,
        read_only=read_only,
        holders=role.users.order_by("username")[:50],
        candidates=candidates[:500],
    )
    return render(request, "settings/role_form.html", context)


@permission_required(PermissionModule.SETTINGS, AccessLevel.MANAGE)
@require_http_methods(["POST"])
def role_user_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Add existing user: give the role (the built-in Administrators too) to a user who does not hold it."""
    role = get_object_or_404(roles_with_user_counts(), pk=pk)
    user = get_user_model().objects.filter(is_active=True, pk=request.POST.get("user") or 0).first()
    if user is None:
        messages.error(request, _("Choose a user to add."))
        return redirect("settings:role_edit", pk=role.pk)
    try:
        user_role_add(actor=request.user, user=user, role=role)
    except ValidationError as error:
        messages.error(request, service_error_text(error))
    else:
        messages.success(request, _("%(user)s now holds the role %(role)s.") % {"user": user, "role": role.name})
    return redirect("settings:role_edit", pk=role.pk)


@permission_required(PermissionModule.SETTINGS, AccessLevel.MANAGE)
@require_http_methods(["GET", "POST"])
def role_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    role = get_object_or_404(roles_with_user_counts(), pk=pk)
    if request.method == "POST":
        try:
            role_delete(actor=request.user, role=role)
        except ValidationError as error:
            messages.error(request, service_error_text(error))
            return redirect("settings:role_edit", pk=role.pk)
        messages.success(request, _("The role %(name)s is deleted.") % {"name": role.name})
        return redirect("settings:role_list")
    refusal = ""
    if role.is_builtin:
        refusal = _("The built-in %(name)s role cannot be deleted.") % {"name": role.name}
    elif role.user_count:
        refusal = _("%(count)d user(s) hold this role. Remove it from them first.") % {"count": role.user_count}
    context = settings_context(
        request,
        "roles",
        title=_("Delete the role %(name)s?") % {"name": role.name},
        message=_("Nobody holds this role. Deleting it cannot be undone."),
        refusal=refusal,
        button_label=_("Delete role"),
        cancel_url=reverse("settings:role_edit", kwargs={"pk": role.pk}),
    )
    return render(request, "settings/confirm.html", context)
