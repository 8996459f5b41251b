"""The invitation link: choose a password, then you are signed in."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from portal.accounts.selectors import invitation_by_token, invitation_problem
from portal.accounts.services import InvitationInvalid, invitation_accept
from portal.accounts.views_settings import form_add_service_error
from portal.authentication.selectors import authentication_settings_get

SIGN_IN_BACKEND = "portal.accounts.backends.UsernameOrEmailBackend"


def _invalid(request: HttpRequest, problem: str) -> HttpResponse:
    return render(request, "accounts/invitation_invalid.html", {"problem": problem}, status=410)


@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitation_by_token(token=token)
    problem = invitation_problem(invitation)
    if problem is not None:
        return _invalid(request, problem)
    form = SetPasswordForm(invitation.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_accept(token=token, password=form.cleaned_data["new_password1"])
        except InvitationInvalid as error:
            return _invalid(request, error.problem)
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            login(request, user, backend=SIGN_IN_BACKEND)
            messages.success(request, _("Welcome! Your password is set and you are signed in."))
            return redirect("core:home")
    context = {
        "form": form,
        "invitation": invitation,
        "token": token,
        "microsoft_sign_in": authentication_settings_get().allow_microsoft_sign_in,
    }
    return render(request, "accounts/invitation_accept.html", context)
