"""Settings > Customer groups: named sets of customers that roles cover."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from customers.selectors import customers_visible_to
from portal.accounts.choices import AccessLevel, PermissionModule
from portal.accounts.filters import CustomerGroupFilterSet
from portal.accounts.forms_settings import CustomerGroupForm
from portal.accounts.permissions import permission_required
from portal.accounts.selectors import customer_groups_with_counts
from portal.accounts.services_customer_groups import (
    customer_group_create,
    customer_group_delete,
    customer_group_update,
)
from portal.accounts.views_settings import (
    form_add_service_error,
    paginate,
    service_error_text,
    settings_context,
)
from portal.core.htmx import partial_template


@permission_required(PermissionModule.SETTINGS, AccessLevel.VIEW)
@require_GET
def customer_group_list(request: HttpRequest) -> HttpResponse:
    filterset = CustomerGroupFilterSet(request.GET or None, queryset=customer_groups_with_counts())
    page = paginate(request, filterset.qs.prefetch_related("roles"))
    context = settings_context(request, "customer_groups", filter=filterset, page=page, groups=page.object_list)
    return render(request, partial_template(request, "settings/customer_group_list.html", "results"), context)


@permission_required(PermissionModule.SETTINGS, AccessLevel.MANAGE)
@require_http_methods(["GET", "POST"])
def customer_group_create_view(request: HttpRequest) -> HttpResponse:
    form = CustomerGroupForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            group = customer_group_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(request, _("The customer group %(name)s is created.") % {"name": group.name})
            return redirect("settings:customer_group_list")
    context = settings_context(request, "customer_groups", form=form, group=None)
    return render(request, "settings/customer_group_form.html", context)


@permission_required(PermissionModule.SETTINGS, AccessLevel.VIEW)
@require_http_methods(["GET", "POST"])
def customer_group_edit(request: HttpRequest, pk: int) -> HttpResponse:
    group = get_object_or_404(customer_groups_with_counts(), pk=pk)
    context = settings_context(request, "customer_groups", group=group)
    read_only = not context["can_manage"]
    if request.method == "POST" and read_only:
        return redirect("settings:customer_group_edit", pk=group.pk)
    visible_members = group.customers.filter(pk__in=customers_visible_to(user=request.user).values("pk"))
    form = CustomerGroupForm(
        request.POST or None,
        actor=request.user,
        initial={"name": group.name, "description": group.description, "customers": list(visible_members)},
    )
    if read_only:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            group = customer_group_update(actor=request.user, group=group, **form.cleaned_data)
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(request, _("The customer group %(name)s is saved.") % {"name": group.name})
            return redirect("settings:customer_group_list")
    context.update(form=form, read_only=read_only, roles=group.roles.all())
    return render(request, "settings/customer_group_form.html", context)


@permission_required(PermissionModule.SETTINGS, AccessLevel.MANAGE)
@require_http_methods(["GET", "POST"])
def customer_group_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    group = get_object_or_404(customer_groups_with_counts(), pk=pk)
    if request.method == "POST":
        try:
            customer_group_delete(actor=request.user, group=group)
        except ValidationError as error:
            messages.error(request, service_error_text(error))
            return redirect("settings:customer_group_edit", pk=group.pk)
        messages.success(request, _("The customer group %(name)s is deleted.") % {"name": group.name})
        return redirect("settings:customer_group_list")
    roles = [role.name for role in group.roles.all()]
    message = _("Its %(count)d customer(s) stay; only the group goes.") % {"count": group.customer_count}
    if roles:
        message += " " + _("These roles cover this group and will no longer cover its customers: %(roles)s.") % {
            "roles": ", ".join(roles)
        }
    context = settings_context(
        request,
        "customer_groups",
        title=_("Delete the customer group %(name)s?") % {"name": group.name},
        message=message,
        button_label=_("Delete group"),
        cancel_url=reverse("settings:customer_group_edit", kwargs={"pk": group.pk}),
    )
    return render(request, "settings/confirm.html", context)
