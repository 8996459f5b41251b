from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRefresh

from portal.accounts.choices import UserKind
from portal.accounts.forms import PasswordResetByEmailForm, ProfileForm, SignInForm
from portal.accounts.services import user_profile_update
from portal.audit.choices import AuditResult
from portal.audit.context import client_ip
from portal.authentication.choices import SignInMethod
from portal.authentication.selectors import authentication_settings_get, user_for_sign_in_identifier
from portal.authentication.services import sign_in_record
from portal.authentication.services_mfa import passkeys_of, recovery_codes_left, totp_devices_of
from portal.authentication.services_throttle import (
    password_reset_count,
    sign_in_failure_record,
    sign_in_lock_of,
    sign_in_success_record,
)
from portal.authentication.session import VERIFY, second_factor_step, sign_in_establish
from portal.core.htmx import partial_template
from portal.partners.selectors import partner_current
from portal.partners.services import partner_host_is_configured


class SignInView(auth_views.LoginView):
    """Password sign-in, unless the partner turned it off; every attempt is audited (ASVS V7).

    Failures count against the account and the address; a locked account or address is refused
    before its password is checked, so even the right password does not get in while locked. A
    right password then leads to the second factor (or its enrolment) before the console.
    """

    template_name = "registration/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        from customers.selectors_registration import customer_registration_allowed

        return {
            **super().get_context_data(**kwargs),
            "sign_in_methods": authentication_settings_get(),
            "registration_open": customer_registration_allowed(),
        }

    def post(self, request, *args, **kwargs):
        if not authentication_settings_get().allow_local_sign_in:
            sign_in_record(
                method=SignInMethod.PASSWORD,
                result=AuditResult.FAILURE,
                identifier=request.POST.get("username", ""),
                message=_("Password sign-in is turned off"),
            )
            messages.error(request, _("Signing in with a password is turned off here. Sign in with Microsoft."))
            return redirect(request.get_full_path())
        identifier = request.POST.get("username", "")
        user = user_for_sign_in_identifier(identifier=identifier)
        lock = sign_in_lock_of(user=user, identifier=identifier, address=client_ip(request))
        if lock is not None:
            sign_in_record(
                method=SignInMethod.PASSWORD,
                result=AuditResult.FAILURE,
                user=user,
                identifier=identifier,
                message=_("Refused: locked after too many failed sign-ins"),
            )
            return self._refused(lock)
        return super().post(request, *args, **kwargs)

    def _refused(self, lock):
        form = self.get_form_class()(self.request, initial={"username": self.request.POST.get("username", "")})
        return self.render_to_response(self.get_context_data(form=form, lock_message=lock.message), status=429)

    def form_valid(self, form):
        user = form.get_user()
        sign_in_establish(self.request, user)
        sign_in_record(method=SignInMethod.PASSWORD, result=AuditResult.SUCCESS, user=user)
        step = second_factor_step(self.request)
        if step is None:
            sign_in_success_record(user=user)
            return HttpResponseRedirect(self.get_success_url())
        target = "accounts:second_factor_verify" if step == VERIFY else "accounts:second_factor_enrol"
        return HttpResponseRedirect(reverse(target) + "?" + urlencode({"next": self.get_success_url()}))

    def form_invalid(self, form):
        identifier = form.data.get("username", "")
        sign_in_record(
            method=SignInMethod.PASSWORD,
            result=AuditResult.FAILURE,
            identifier=identifier,
            message=_("Wrong username, email or password, or the account is deactivated"),
        )
        if identifier:
            lock = sign_in_failure_record(
                user=user_for_sign_in_identifier(identifier=identifier),
                identifier=identifier,
                address=client_ip(self.request),
            )
            if lock is not None:
                return self._refused(lock)
        return super().form_invalid(form)


class SignOutView(auth_views.LogoutView):
    pass


class PasswordResetView(auth_views.PasswordResetView):
    """Throttled per email address and per client address, so nobody can mail-bomb a user from here."""

    form_class = PasswordResetByEmailForm
    success_url = reverse_lazy("accounts:password_reset_done")

    def dispatch(self, request, *args, **kwargs):
        partner = partner_current()
        if partner is None or not partner_host_is_configured(partner, request.get_host()):
            # The partner's own host on another port (or any name ALLOWED_HOSTS lets through): no email leaves.
            raise DisallowedHost(f"Password reset refused for unknown host {request.get_host()!r}")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        lock = password_reset_count(email=form.cleaned_data["email"], address=client_ip(self.request))
        if lock is not None:
            form.add_error(None, lock.message)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("accounts:password_reset_complete")


def _own_customer_tenants(user) -> list:
    """A customer tenant admin's Microsoft tenants (their customers'); none for a partner user."""
    from customers.selectors import customer_tenants_visible_to

    if user.kind != UserKind.CUSTOMER_ADMIN:
        return []
    return list(customer_tenants_visible_to(user=user).order_by("primary_domain"))


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    template = partial_template(request, "accounts/profile.html", "profile_form")
    spoken = (request.user.language, request.user.time_zone)  # validating the form writes to the instance
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user = user_profile_update(actor=request.user, user=request.user, changes=form.cleaned_data)
        translation.activate(user.language)  # the confirmation already speaks the new language
        messages.success(request, _("Your profile was saved."))
        if not request.htmx:
            return redirect("accounts:profile")
        if (user.language, user.time_zone) != spoken:
            return HttpResponseClientRefresh()  # every label on the page changes, not only the form
        form = ProfileForm(instance=request.user)
    context = {
        "form": form,
        "totp_devices": totp_devices_of(user=request.user),
        "passkeys": passkeys_of(user=request.user),
        "recovery_codes_left": recovery_codes_left(user=request.user),
        "customer_tenants": _own_customer_tenants(request.user),
    }
    return render(request, template, context)
