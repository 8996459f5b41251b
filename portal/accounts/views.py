from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal.accounts.forms import PasswordResetByEmailForm, ProfileForm, SignInForm
from portal.accounts.services import user_profile_update


class SignInView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    pass


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetByEmailForm
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("accounts:password_reset_complete")


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    template = "accounts/profile.html"
    if request.htmx and not request.htmx.boosted:
        template += "#profile_form"
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user_profile_update(actor=request.user, user=request.user, changes=form.cleaned_data)
        messages.success(request, _("Your profile was saved."))
        if not request.htmx:
            return redirect("accounts:profile")
        form = ProfileForm(instance=request.user)
    return render(request, template, {"form": form})
