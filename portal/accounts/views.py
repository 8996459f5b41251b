from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRefresh

from portal.accounts.forms import PasswordResetByEmailForm, ProfileForm, SignInForm
from portal.accounts.services import user_profile_update
from portal.audit.choices import AuditResult
from portal.authentication.choices import SignInMethod
from portal.authentication.selectors import authentication_settings_get
from portal.authentication.services import sign_in_record
from portal.partners.selectors import partner_current
from portal.partners.services import partner_host_is_configured


class SignInView(auth_views.LoginView):
    """Password sign-in, unless the partner turned it off; every attempt is audited (ASVS V7)."""

    template_name = "registration/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "sign_in_methods": authentication_settings_get()}

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
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        sign_in_record(method=SignInMethod.PASSWORD, result=AuditResult.SUCCESS, user=form.get_user())
        return response

    def form_invalid(self, form):
        sign_in_record(
            method=SignInMethod.PASSWORD,
            result=AuditResult.FAILURE,
            identifier=form.data.get("username", ""),
            message=_("Wrong username, email or password, or the account is deactivated"),
        )
        return super().form_invalid(form)


class SignOutView(auth_views.LogoutView):
    pass


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetByEmailForm
    success_url = reverse_lazy("accounts:password_reset_done")

    def dispatch(self, request, *args, **kwargs):
        partner = partner_current()
        if partner is None or not partner_host_is_configured(partner, request.get_host()):
            # The partner's own host on another port (or any name ALLOWED_HOSTS lets through): no email leaves.
            raise DisallowedHost(f"Password reset refused for unknown host {request.get_host()!r}")
        return super().dispatch(request, *args, **kwargs)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("accounts:password_reset_complete")


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    template = "accounts/profile.html"
    if request.htmx and not request.htmx.boosted:
        template += "#profile_form"
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
    return render(request, template, {"form": form})
