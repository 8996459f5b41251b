"""Where a session stands with its second factor, and the one place a sign-in session is established.

A password (or a Microsoft sign-in without Microsoft's own MFA) makes the session authenticated but not
yet verified: :class:`~portal.authentication.middleware.SecondFactorMiddleware` then allows nothing but
the second-factor pages and signing out until :func:`second_factor_mark_verified` is called.
"""

from django.contrib.auth import login
from django.http import HttpRequest

from portal.authentication.services_mfa import second_factor_required

# The factor that verified this session ("totp", "passkey", "recovery_code", "microsoft"); absent until then.
SECOND_FACTOR_SESSION_KEY = "second_factor"
SIGN_IN_BACKEND = "portal.accounts.backends.UsernameOrEmailBackend"

VERIFY = "verify"
ENROL = "enrol"


def sign_in_establish(request: HttpRequest, user, *, second_factor: str = "") -> None:
    """Log the user in; ``second_factor`` names a factor already proven (Microsoft's MFA), if any."""
    login(request, user, backend=SIGN_IN_BACKEND)
    if second_factor:
        request.session[SECOND_FACTOR_SESSION_KEY] = str(second_factor)


def microsoft_mfa_done(account) -> bool:
    """Whether Microsoft's token says the person did multi-factor authentication there (``amr`` contains "mfa")."""
    amr = (getattr(account, "claims", None) or {}).get("amr") or []
    return isinstance(amr, list | tuple) and "mfa" in amr


def second_factor_mark_verified(request: HttpRequest, *, factor: str) -> None:
    request.session.cycle_key()  # a new session id for the fully signed-in session
    request.session[SECOND_FACTOR_SESSION_KEY] = str(factor)


def second_factor_is_verified(request: HttpRequest) -> bool:
    return bool(request.session.get(SECOND_FACTOR_SESSION_KEY))


def second_factor_step(request: HttpRequest) -> str | None:
    """What the signed-in session still owes: VERIFY a factor, ENROL one, or nothing (None)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or second_factor_is_verified(request):
        return None
    from portal.authentication.services_mfa import user_has_second_factor

    if user_has_second_factor(user=user):
        return VERIFY
    if second_factor_required(user=user):
        return ENROL
    return None
