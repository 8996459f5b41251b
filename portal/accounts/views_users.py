"""Settings > Users: the list, invitations, roles, customers and (de)activation of users."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.accounts.choices import AccessLevel, PermissionModule, UserKind
from portal.accounts.filters import UserFilterSet
from portal.accounts.forms_settings import UserCustomersForm, UserInviteForm, UserRoleAddForm
from portal.accounts.permissions import permission_required
from portal.accounts.selectors import user_pending_invitation, users_with_status
from portal.accounts.services import (
    invitation_resend,
    invitation_revoke,
    user_customers_set,
    user_deactivate,
    user_invite,
    user_reactivate,
    user_role_add,
    user_role_remove,
)
from portal.accounts.views_settings import (
    form_add_service_error,
    paginate,
    service_error_text,
    settings_context,
)
from portal.audit.selectors import audit_events_for_object
from portal.authentication.services_throttle import account_unlock, locked_account_of, locked_accounts
from portal.core.htmx import partial_template

VIEW = (PermissionModule.SETTINGS, AccessLevel.VIEW)
MANAGE = (PermissionModule.SETTINGS, AccessLevel.MANAGE)


def _user_or_404(pk: int):
    return get_object_or_404(users_with_status(), pk=pk)


def _confirm(request: HttpRequest, **context) -> HttpResponse:
    return render(request, "settings/confirm.html", settings_context(request, "users", **context))


@permission_required(*VIEW)
@require_GET
def user_list(request: HttpRequest) -> HttpResponse:
    filterset = UserFilterSet(request.GET or None, queryset=users_with_status())
    page = paginate(request, filterset.qs)
    context = settings_context(
        request, "users", filter=filterset, page=page, users=page.object_list, locked=locked_accounts()
    )
    return render(request, partial_template(request, "settings/user_list.html", "results"), context)


@permission_required(*MANAGE)
@require_http_methods(["GET", "POST"])
def user_invite_view(request: HttpRequest) -> HttpResponse:
    form = UserInviteForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            invitation = user_invite(
                actor=request.user,
                email=data["email"],
                kind=data["kind"],
                roles=[data["role"]],
                customers=data["customers"],
                first_name=data["first_name"],
                last_name=data["last_name"],
            )
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.user.email})
            return redirect("settings:user_detail", pk=invitation.user_id)
    return render(request, "settings/user_invite.html", settings_context(request, "users", form=form))


@permission_required(*VIEW)
@require_GET
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user_or_404(pk)
    context = settings_context(
        request,
        "users",
        subject=user,
        invitation=user_pending_invitation(user=user),
        role_form=UserRoleAddForm(user=user),
        events=audit_events_for_object(target=user)[:20],
        lock=locked_account_of(user=user),
    )
    return render(request, "settings/user_detail.html", context)


@permission_required(*MANAGE)
@require_http_methods(["GET", "POST"])
def user_unlock_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Lift a lock that failed sign-ins put on the account (audited)."""
    user = _user_or_404(pk)
    if request.method == "POST":
        if account_unlock(actor=request.user, user=user, message=_("Unlocked by an administrator")):
            messages.success(request, _("%(user)s is unlocked and can sign in again.") % {"user": user})
        else:
            messages.info(request, _("%(user)s is not locked.") % {"user": user})
        return redirect("settings:user_detail", pk=user.pk)
    return _confirm(
        request,
        title=_("Unlock %(user)s?") % {"user": user},
        message=_(
            "The account was locked after too many failed sign-ins. "
            "Unlock it only if you know the attempts were theirs."
        ),
        button_label=_("Unlock"),
        cancel_url=reverse("settings:user_detail", kwargs={"pk": user.pk}),
    )


@permission_required(*MANAGE)
@require_POST
def user_role_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user_or_404(pk)
    form = UserRoleAddForm(request.POST, user=user)
    if not form.is_valid():
        messages.error(request, _("Choose a role to add."))
    else:
        role = form.cleaned_data["role"]
        try:
            user_role_add(actor=request.user, user=user, role=role)
        except ValidationError as error:
            messages.error(request, service_error_text(error))
        else:
            messages.success(request, _("%(user)s now has the role %(role)s.") % {"user": user, "role": role})
    return redirect("settings:user_detail", pk=user.pk)


@permission_required(*MANAGE)
@require_http_methods(["GET", "POST"])
def user_role_remove_view(request: HttpRequest, pk: int, role_pk: int) -> HttpResponse:
    user = _user_or_404(pk)
    role = get_object_or_404(user.roles.all(), pk=role_pk)
    if request.method == "POST":
        try:
            user_role_remove(actor=request.user, user=user, role=role)
        except ValidationError as error:
            messages.error(request, service_error_text(error))
        else:
            messages.success(request, _("%(user)s no longer has the role %(role)s.") % {"user": user, "role": role})
        return redirect("settings:user_detail", pk=user.pk)
    return _confirm(
        request,
        title=_("Remove %(user)s from %(role)s?") % {"user": user, "role": role},
        message=_("They lose the permissions and customers this role gives them, from their next page."),
        button_label=_("Remove from role"),
        cancel_url=reverse("settings:user_detail", kwargs={"pk": user.pk}),
    )


@permission_required(*MANAGE)
@require_http_methods(["GET", "POST"])
def user_deactivate_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user_or_404(pk)
    if request.method == "POST":
        try:
            user_deactivate(actor=request.user, user=user)
        except ValidationError as error:
            messages.error(request, service_error_text(error))
        else:
            messages.success(request, _("%(user)s is deactivated and signed out.") % {"user": user})
        return redirect("settings:user_detail", pk=user.pk)
    return _confirm(
        request,
        title=_("Deactivate %(user)s?") % {"user": user},
        message=_(
            "They are signed out now and can no longer sign in. Their history stays, and you can reactivate them later."
        ),
        button_label=_("Deactivate"),
        cancel_url=reverse("settings:user_detail", kwargs={"pk": user.pk}),
    )


@permission_required(*MANAGE)
@require_POST
def user_reactivate_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user_or_404(pk)
    user_reactivate(actor=request.user, user=user)
    messages.success(request, _("%(user)s is active again.") % {"user": user})
    return redirect("settings:user_detail", pk=user.pk)


@permission_required(*MANAGE)
@require_POST
def invitation_resend_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user_or_404(pk)
    try:
        invitation_resend(actor=request.user, user=user)
    except ValidationError as error:
        messages.error(request, service_error_text(error))
    else:
        messages.success(request, _("A new invitation was sent to %(email)s.") % {"email": user.email})
    return redirect("settings:user_detail", pk=user.pk)


@permission_required(*MANAGE)
@require_http_methods(["GET", "POST"])
def invitation_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user_or_404(pk)
    if request.method == "POST":
        try:
            removed = invitation_revoke(actor=request.user, user=user)
        except ValidationError as error:
            messages.error(request, service_error_text(error))
            return redirect("settings:user_detail", pk=user.pk)
        messages.success(request, _("The invitation of %(email)s is revoked.") % {"email": user.email})
        return redirect("settings:user_list") if removed else redirect("settings:user_detail", pk=user.pk)
    return _confirm(
        request,
        title=_("Revoke the invitation of %(email)s?") % {"email": user.email},
        message=_("The link in their email stops working. If they never signed in, the user is removed."),
        button_label=_("Revoke invitation"),
        cancel_url=reverse("settings:user_detail", kwargs={"pk": user.pk}),
    )


@permission_required(*MANAGE)
@require_http_methods(["GET", "POST"])
def user_customers_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user_or_404(pk)
    if user.kind != UserKind.CUSTOMER_ADMIN:
        raise Http404(_("Only customer tenant admins are bound to customers."))
    form = UserCustomersForm(
        request.POST or None, actor=request.user, initial={"customers": list(user.customers.all())}
    )
    if request.method == "POST" and form.is_valid():
        try:
            user_customers_set(actor=request.user, user=user, customers=form.cleaned_data["customers"])
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(request, _("The customers of %(user)s are saved.") % {"user": user})
            return redirect("settings:user_detail", pk=user.pk)
    context = settings_context(
        request,
        "users",
        form=form,
        title=_("Customers of %(user)s") % {"user": user},
        cancel_url=reverse("settings:user_detail", kwargs={"pk": user.pk}),
    )
    return render(request, "settings/form.html", context)
