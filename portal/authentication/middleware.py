from urllib.parse import urlencode

from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from portal.authentication.session import ENROL, second_factor_step

# What a signed-in session may reach before its second factor: the factor pages themselves, signing out,
# the unlock link and the language switcher. Everything else sends the person to verify or enrol.
OPEN_BEFORE_SECOND_FACTOR = frozenset(
    {
        "accounts:logout",
        "accounts:unlock",
        "accounts:second_factor_verify",
        "accounts:second_factor_enrol",
        "accounts:totp_qr_code",
        "accounts:recovery_codes_show",
        "accounts:passkey_register_options",
        "accounts:passkey_register_complete",
        "accounts:passkey_authenticate_options",
        "accounts:passkey_authenticate_complete",
        "core:language_switch",
        "healthz",
    }
)


class SecondFactorMiddleware:
    """A signed-in person proves a second factor (or enrols one, when the partner requires MFA) before anything else.

    Partner hosts only: the public host's Django admin belongs to platform operators.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if connection.schema_name == "public":
            return None
        match = request.resolver_match
        if match is not None and match.view_name in OPEN_BEFORE_SECOND_FACTOR:
            return None
        step = second_factor_step(request)
        if step is None:
            return None
        target = reverse("accounts:second_factor_enrol" if step == ENROL else "accounts:second_factor_verify")
        htmx = request.headers.get("HX-Request") == "true"
        if request.method == "GET" and not htmx:
            target += "?" + urlencode({"next": request.get_full_path()})
        if htmx:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return HttpResponseRedirect(target)
