"""Users of a customer tenant and licence assignment: list, create, sync, assign and unassign."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from customers.selectors import customer_tenants_visible_to
from portal.accounts.choices import AccessLevel, PermissionModule
from portal.accounts.permissions import permission_check, permission_required, user_has_permission
from subscriptions.choices import SubscriptionStatus
from subscriptions.models import Subscription, TenantUser
from subscriptions.services_users import (
    UsersRefused,
    directory_exchange_supported,
    licenses_assign,
    licenses_unassign,
    password_problem,
    tenant_user_create,
    tenant_users_exchange,
    tenant_users_sync,
    users_connection,
)

VIEW = AccessLevel.VIEW
MANAGE = AccessLevel.MANAGE
SUBSCRIPTIONS = PermissionModule.SUBSCRIPTIONS


class TenantUserForm(forms.Form):
    user_name = forms.CharField(label=gettext_lazy("User name"), max_length=120)
    first_name = forms.CharField(label=gettext_lazy("First name"), max_length=100)
    last_name = forms.CharField(label=gettext_lazy("Last name"), max_length=100)
    email = forms.EmailField(
        label=gettext_lazy("Email"), help_text=gettext_lazy("A generated password is emailed to this address.")
    )
    is_admin = forms.BooleanField(label=gettext_lazy("Administrator"), required=False)
    generate_password = forms.BooleanField(label=gettext_lazy("Generate password"), required=False, initial=True)
    password = forms.CharField(
        label=gettext_lazy("Password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=gettext_lazy(
            "Only when the password is not generated: at least 8 characters with uppercase and lowercase letters, "
            "numbers and non-word characters, and no part of the user name or full name."
        ),
    )

    def clean(self):
        data = super().clean()
        if not data.get("generate_password"):
            password = data.get("password") or ""
            problem = password_problem(
                password,
                user_name=data.get("user_name", ""),
                full_name=f"{data.get('first_name', '')} {data.get('last_name', '')}",
            )
            if problem:
                self.add_error("password", problem)
        return data


def _tenant(request: HttpRequest, tenant_pk: int):
    return get_object_or_404(customer_tenants_visible_to(user=request.user).select_related("customer"), pk=tenant_pk)


def _require_manage(request: HttpRequest) -> None:
    if not user_has_permission(request.user, SUBSCRIPTIONS, MANAGE):
        raise PermissionDenied


def _assignable(tenant, connection):
    if connection is None:
        return Subscription.objects.none()
    return (
        Subscription.objects.filter(
            customer_tenant=tenant, account_id=connection.account_id, status=SubscriptionStatus.ACTIVE
        )
        .select_related("options")
        .order_by("name", "pk")
    )


def _report(request: HttpRequest, result, *, assigned: bool, subscription: Subscription) -> None:
    if result.done:
        messages.success(
            request,
            (
                _("%(count)d user(s) subscribed to %(name)s.")
                if assigned
                else _("%(count)d user(s) unsubscribed from %(name)s.")
            )
            % {"count": len(result.done), "name": subscription.name},
        )
    for name, reason in result.failed.items():
        messages.error(request, f"{name}: {reason}")


@permission_required(SUBSCRIPTIONS, VIEW)
@require_GET
def tenant_user_list(request: HttpRequest, tenant_pk: int) -> HttpResponse:
    tenant = _tenant(request, tenant_pk)
    connection = users_connection(customer_tenant=tenant)
    users = (
        TenantUser.objects.filter(customer_tenant=tenant)
        .prefetch_related("assignments__subscription")
        .order_by("display_name", "user_name")
    )
    context = {
        "tenant": tenant,
        "connection": connection,
        "users": users,
        "subscriptions": _assignable(tenant, connection),
        "can_manage": user_has_permission(request.user, SUBSCRIPTIONS, MANAGE),
        "directory_exchange": connection is not None and directory_exchange_supported(connection),
    }
    return render(request, "subscriptions/tenant_users.html", context)


@permission_required(SUBSCRIPTIONS, VIEW)
def tenant_users_sync_view(request: HttpRequest, tenant_pk: int) -> HttpResponse:
    tenant = _tenant(request, tenant_pk)
    permission_check(request.user, SUBSCRIPTIONS, MANAGE)  # after the scoped lookup: out of scope is 404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        result = tenant_users_sync(actor=request.user, customer_tenant=tenant)
    except UsersRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("%(count)d user(s) synced from the marketplace.") % {"count": result.users})
    return redirect("subscriptions:tenant_user_list", tenant_pk=tenant.pk)


@permission_required(SUBSCRIPTIONS, VIEW)
def tenant_users_exchange_view(request: HttpRequest, tenant_pk: int, direction: str) -> HttpResponse:
    """User import / User export with the marketplace's own directory; passwords go to the address given."""
    tenant = _tenant(request, tenant_pk)
    permission_check(request.user, SUBSCRIPTIONS, MANAGE)  # after the scoped lookup: out of scope is 404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    recipient = request.POST.get("recipient", "").strip()
    try:
        validate_email(recipient)
    except ValidationError:
        messages.error(request, _("Enter the email address the passwords are sent to."))
        return redirect("subscriptions:tenant_user_list", tenant_pk=tenant.pk)
    try:
        count = tenant_users_exchange(
            actor=request.user, customer_tenant=tenant, direction=direction, recipient=recipient
        )
    except UsersRefused as refused:
        messages.error(request, str(refused))
    else:
        if direction == "import":
            message = _("%(count)d user(s) imported; their passwords were emailed to %(email)s.")
        else:
            message = _("%(count)d user(s) exported; their Cloudmore passwords were emailed to %(email)s.")
        messages.success(request, message % {"count": count, "email": recipient})
    return redirect("subscriptions:tenant_user_list", tenant_pk=tenant.pk)


@permission_required(SUBSCRIPTIONS, VIEW)
@require_http_methods(["GET", "POST"])
def tenant_user_create_view(request: HttpRequest, tenant_pk: int) -> HttpResponse:
    tenant = _tenant(request, tenant_pk)
    permission_check(request.user, SUBSCRIPTIONS, MANAGE)  # after the scoped lookup: out of scope is 404
    connection = users_connection(customer_tenant=tenant)
    form = TenantUserForm(request.POST or None)
    if request.method == "POST" and connection is not None and form.is_valid():
        data = form.cleaned_data
        try:
            user = tenant_user_create(
                actor=request.user,
                customer_tenant=tenant,
                user_name=data["user_name"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                is_admin=data["is_admin"],
                password=None if data["generate_password"] else data["password"],
            )
        except UsersRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(
                request,
                _("%(user)s was created; the login credentials were emailed to %(email)s.")
                % {"user": user.user_name, "email": user.email}
                if data["generate_password"]
                else _("%(user)s was created.") % {"user": user.user_name},
            )
            return redirect("subscriptions:tenant_user_detail", tenant_pk=tenant.pk, pk=user.pk)
    context = {"tenant": tenant, "form": form, "connection": connection}
    return render(request, "subscriptions/tenant_user_form.html", context, status=400 if form.errors else 200)


@permission_required(SUBSCRIPTIONS, VIEW)
@require_http_methods(["GET", "POST"])
def tenant_user_detail(request: HttpRequest, tenant_pk: int, pk: int) -> HttpResponse:
    tenant = _tenant(request, tenant_pk)
    user = get_object_or_404(TenantUser.objects.filter(customer_tenant=tenant), pk=pk)
    connection = users_connection(customer_tenant=tenant)
    if request.method == "POST":
        _require_manage(request)
        subscription = get_object_or_404(_assignable(tenant, connection), pk=request.POST.get("subscription") or 0)
        assign = request.POST.get("op") != "unassign"
        try:
            change = licenses_assign if assign else licenses_unassign
            result = change(actor=request.user, customer_tenant=tenant, users=[user], subscription=subscription)
        except UsersRefused as refused:
            messages.error(request, str(refused))
        else:
            _report(request, result, assigned=assign, subscription=subscription)
        return redirect("subscriptions:tenant_user_detail", tenant_pk=tenant.pk, pk=user.pk)
    assigned = {assignment.subscription_id for assignment in user.assignments.all()}
    context = {
        "tenant": tenant,
        "tenant_user": user,
        "subscriptions": _assignable(tenant, connection),
        "assigned": assigned,
        "can_manage": user_has_permission(request.user, SUBSCRIPTIONS, MANAGE),
    }
    return render(request, "subscriptions/tenant_user_detail.html", context)


@permission_required(SUBSCRIPTIONS, VIEW)
def tenant_users_assign(request: HttpRequest, tenant_pk: int) -> HttpResponse:
    """Bulk: the ticked users subscribed to (or unsubscribed from, `op=unassign`) one subscription."""
    tenant = _tenant(request, tenant_pk)
    permission_check(request.user, SUBSCRIPTIONS, MANAGE)  # after the scoped lookup: out of scope is 404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    connection = users_connection(customer_tenant=tenant)
    subscription = _assignable(tenant, connection).filter(pk=request.POST.get("subscription") or 0).first()
    users = list(TenantUser.objects.filter(customer_tenant=tenant, pk__in=request.POST.getlist("users")))
    if subscription is None:
        messages.error(request, _("Choose a subscription."))
        return redirect("subscriptions:tenant_user_list", tenant_pk=tenant.pk)
    assign = request.POST.get("op") != "unassign"
    try:
        change = licenses_assign if assign else licenses_unassign
        result = change(actor=request.user, customer_tenant=tenant, users=users, subscription=subscription)
    except UsersRefused as refused:
        messages.error(request, str(refused))
    else:
        _report(request, result, assigned=assign, subscription=subscription)
    return redirect("subscriptions:tenant_user_list", tenant_pk=tenant.pk)
