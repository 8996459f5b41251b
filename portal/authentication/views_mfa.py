"""The second factor at sign-in (verify or enrol), managing factors on My profile, and the emailed unlock link.

Passkeys use two JSON endpoints each (options, then the browser's answer) driven by
``static/js/passkeys.js``; everything else is plain forms.
"""

import json

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from portal.audit.choices import AuditAction, AuditResult
from portal.audit.context import client_ip
from portal.audit.services import audit_record
from portal.authentication.choices import SecondFactor
from portal.authentication.forms_mfa import ConfirmIdentityForm, SecondFactorCodeForm, TotpEnrolForm
from portal.authentication.models import Passkey
from portal.authentication.selectors import authentication_settings_get
from portal.authentication.services_mfa import (
    passkey_add,
    passkey_remove,
    passkey_used,
    passkeys_of,
    recovery_codes_left,
    recovery_codes_regenerate,
    second_factor_verify_code,
    totp_devices_of,
    totp_enrolment_confirm,
    totp_enrolment_pending,
    totp_enrolment_start,
    totp_remove,
    user_handle,
    user_has_second_factor,
)
from portal.authentication.services_throttle import (
    account_unlock_by_link,
    sign_in_failure_record,
    sign_in_lock_of,
    sign_in_success_record,
)
from portal.authentication.session import (
    second_factor_is_verified,
    second_factor_mark_verified,
)

RECOVERY_CODES_SESSION_KEY = "recovery_codes_to_show"
PASSKEY_REGISTER_SESSION_KEY = "passkey_register_challenge"
PASSKEY_AUTHENTICATE_SESSION_KEY = "passkey_authenticate_challenge"


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _second_factor_record(request: HttpRequest, *, factor: str, result: str, message: str = "") -> None:
    audit_record(
        actor=request.user if result == AuditResult.SUCCESS else request.user.get_username(),
        action=AuditAction.USER_SECOND_FACTOR_VERIFY,
        target=request.user,
        after={"factor": str(factor)},
        result=result,
        message=message,
    )


def _lock_of(request: HttpRequest):
    return sign_in_lock_of(user=request.user, identifier=request.user.get_username(), address=client_ip(request))


def _refuse_locked(request: HttpRequest, lock) -> HttpResponse:
    """Locked while half signed in: sign out, so the lock is what the person reads on the sign-in page."""
    logout(request)
    messages.error(request, lock.message)
    return redirect("accounts:login")


def _failure(request: HttpRequest, *, factor: str, message: str):
    _second_factor_record(request, factor=factor, result=AuditResult.FAILURE, message=message)
    return sign_in_failure_record(user=request.user, identifier=request.user.get_username(), address=client_ip(request))


def _verified(request: HttpRequest, *, factor: str) -> None:
    second_factor_mark_verified(request, factor=factor)
    sign_in_success_record(user=request.user)
    _second_factor_record(request, factor=factor, result=AuditResult.SUCCESS)


def _may_enrol(request: HttpRequest) -> bool:
    """Adding a factor needs a verified session, except the very first factor (enrolment at sign-in)."""
    return second_factor_is_verified(request) or not user_has_second_factor(user=request.user)


# -- at sign-in --------------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def second_factor_verify(request: HttpRequest) -> HttpResponse:
    if second_factor_is_verified(request):
        return redirect(_next_url(request))
    if not user_has_second_factor(user=request.user):
        return redirect(reverse("accounts:second_factor_enrol") + "?" + request.GET.urlencode())
    form = SecondFactorCodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        lock = _lock_of(request)
        if lock is not None:
            _second_factor_record(
                request,
                factor="code",
                result=AuditResult.FAILURE,
                message=_("Refused: locked after too many failed sign-ins"),
            )
            return _refuse_locked(request, lock)
        if form.is_valid():
            factor = second_factor_verify_code(user=request.user, code=form.cleaned_data["code"])
            if factor is not None:
                _verified(request, factor=factor)
                if factor == SecondFactor.RECOVERY_CODE:
                    left = recovery_codes_left(user=request.user)
                    messages.warning(
                        request,
                        _("You used a recovery code; %(count)d are left. Make new ones on My profile.")
                        % {"count": left},
                    )
                return redirect(_next_url(request))
            lock = _failure(
                request,
                factor="code",
                message=_("That code is not right, or it was already used. Try the current code."),
            )
            if lock is not None:
                return _refuse_locked(request, lock)
            form.add_error("code", _("That code is not right, or it was already used. Try the current code."))
            status = 400
    context = {
        "form": form,
        "next": _next_url(request),
        "has_passkeys": passkeys_of(user=request.user).exists(),
        "has_totp": totp_devices_of(user=request.user).exists(),
    }
    return render(request, "authentication/second_factor_verify.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def second_factor_enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app (or, with the button, a passkey): at sign-in, or from My profile."""
    if not _may_enrol(request):
        return redirect(reverse("accounts:second_factor_verify") + "?" + request.GET.urlencode())
    at_sign_in = not second_factor_is_verified(request)
    device = totp_enrolment_pending(user=request.user)
    form = TotpEnrolForm(request.POST or None)
    status = 200
    if request.method == "POST" and device is not None:
        lock = _lock_of(request)
        if lock is not None:
            return _refuse_locked(request, lock)
        if form.is_valid():
            try:
                codes = totp_enrolment_confirm(
                    actor=request.user, device=device, code=form.cleaned_data["code"], name=form.cleaned_data["name"]
                )
            except ValidationError as error:
                form.add_error("code", error)
                status = 400
                lock = _failure(request, factor=SecondFactor.TOTP, message=" ".join(error.messages))
                if lock is not None:
                    return _refuse_locked(request, lock)
            else:
                if at_sign_in:
                    _verified(request, factor=SecondFactor.TOTP)
                messages.success(request, _("Your authenticator app is set up."))
                return _after_enrolment(request, codes)
    if device is None or request.method == "GET":
        device = totp_enrolment_start(user=request.user)
    context = {
        "form": form,
        "next": _next_url(request),
        "secret": _spaced(device.config_url),
        "at_sign_in": at_sign_in,
        "required": authentication_settings_get().require_mfa,
    }
    return render(request, "authentication/second_factor_enrol.html", context, status=status)


def _spaced(config_url: str) -> str:
    secret = config_url.split("secret=", 1)[1].split("&", 1)[0]
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))


def _after_enrolment(request: HttpRequest, codes: list[str]) -> HttpResponse:
    next_url = _next_url(request)
    if codes:
        request.session[RECOVERY_CODES_SESSION_KEY] = {"codes": codes, "next": next_url}
        return redirect("accounts:recovery_codes_show")
    return redirect(next_url)


@login_required
@require_GET
def totp_qr_code(request: HttpRequest) -> HttpResponse:
    """The pending authenticator secret as a QR code (SVG), for the enrolment page's <img>."""
    device = totp_enrolment_pending(user=request.user) if _may_enrol(request) else None
    if device is None:
        raise Http404
    svg = segno.make(device.config_url, error="m").svg_inline(scale=5, border=2)
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def recovery_codes_show(request: HttpRequest) -> HttpResponse:
    """New recovery codes, shown this once: the page reads them out of the session and forgets them."""
    shown = request.session.pop(RECOVERY_CODES_SESSION_KEY, None)
    if not shown:
        return redirect("accounts:profile")
    response = render(
        request, "authentication/recovery_codes.html", {"codes": shown["codes"], "next": shown.get("next") or "/"}
    )
    response["Cache-Control"] = "no-store"
    return response


# -- passkeys (JSON, for static/js/passkeys.js) ------------------------------------------------------------------------


def _relying_party(request: HttpRequest) -> tuple[str, str]:
    host = request.get_host()
    scheme = "https" if request.is_secure() else "http"
    return host.split(":")[0], f"{scheme}://{host}"


@login_required
@require_POST
def passkey_register_options(request: HttpRequest) -> HttpResponse:
    if not _may_enrol(request):
        return JsonResponse({"error": _("Verify your sign-in first.")}, status=403)
    rp_id, _origin = _relying_party(request)
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=getattr(request.tenant, "name", "") or "MSP Console",
        user_id=user_handle(request.user),
        user_name=request.user.get_username(),
        user_display_name=request.user.get_full_name() or request.user.get_username(),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=bytes(key.credential_id)) for key in passkeys_of(user=request.user)
        ],
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.PREFERRED
        ),
    )
    request.session[PASSKEY_REGISTER_SESSION_KEY] = options.challenge.hex()
    return HttpResponse(options_to_json(options), content_type="application/json")


@login_required
@require_POST
def passkey_register_complete(request: HttpRequest) -> HttpResponse:
    challenge = request.session.pop(PASSKEY_REGISTER_SESSION_KEY, None)
    if not _may_enrol(request) or not challenge:
        return JsonResponse({"error": _("Start adding the passkey again.")}, status=400)
    at_sign_in = not second_factor_is_verified(request)
    rp_id, origin = _relying_party(request)
    try:
        payload = json.loads(request.body or b"{}")
        verified = verify_registration_response(
            credential=payload.get("credential") or {},
            expected_challenge=bytes.fromhex(challenge),
            expected_rp_id=rp_id,
            expected_origin=origin,
        )
        _passkey, codes = passkey_add(
            actor=request.user,
            user=request.user,
            name=str(payload.get("name") or ""),
            credential_id=verified.credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            transports=(payload.get("credential") or {}).get("response", {}).get("transports") or [],
        )
    except (ValueError, TypeError, AttributeError, WebAuthnException) as error:
        return JsonResponse({"error": _("The passkey could not be checked: %(error)s") % {"error": error}}, status=400)
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=400)
    if at_sign_in:
        _verified(request, factor=SecondFactor.PASSKEY)
    messages.success(request, _("Your passkey is added."))
    next_url = str(payload.get("next") or "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("accounts:profile")
    if codes:
        request.session[RECOVERY_CODES_SESSION_KEY] = {"codes": codes, "next": next_url}
        next_url = reverse("accounts:recovery_codes_show")
    return JsonResponse({"redirect": next_url})


@login_required
@require_POST
def passkey_authenticate_options(request: HttpRequest) -> HttpResponse:
    rp_id, _origin = _relying_party(request)
    options = generate_authentication_options(
        rp_id=rp_id,
        allow_credentials=[
            PublicKeyCredentialDescriptor(id=bytes(key.credential_id)) for key in passkeys_of(user=request.user)
        ],
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    request.session[PASSKEY_AUTHENTICATE_SESSION_KEY] = options.challenge.hex()
    return HttpResponse(options_to_json(options), content_type="application/json")


@login_required
@require_POST
def passkey_authenticate_complete(request: HttpRequest) -> HttpResponse:
    challenge = request.session.pop(PASSKEY_AUTHENTICATE_SESSION_KEY, None)
    lock = _lock_of(request)
    if lock is not None:
        logout(request)
        messages.error(request, lock.message)
        return JsonResponse({"error": lock.message, "redirect": reverse("accounts:login")}, status=429)
    if not challenge:
        return JsonResponse({"error": _("Start the passkey sign-in again.")}, status=400)
    rp_id, origin = _relying_party(request)
    try:
        payload = json.loads(request.body or b"{}")
        credential = payload.get("credential") or {}
        from webauthn import base64url_to_bytes

        passkey = (
            passkeys_of(user=request.user).filter(credential_id=base64url_to_bytes(credential.get("id", ""))).first()
        )
        if passkey is None:
            raise ValueError("unknown passkey")
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=bytes.fromhex(challenge),
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
        )
    except (ValueError, TypeError, AttributeError, WebAuthnException) as error:
        lock = _failure(request, factor=SecondFactor.PASSKEY, message=str(error)[:200])
        if lock is not None:
            logout(request)
            messages.error(request, lock.message)
            return JsonResponse({"error": lock.message, "redirect": reverse("accounts:login")}, status=429)
        return JsonResponse({"error": _("That passkey did not work here. Try again or use a code.")}, status=400)
    passkey_used(passkey=passkey, sign_count=verified.new_sign_count)
    _verified(request, factor=SecondFactor.PASSKEY)
    next_url = str(payload.get("next") or "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = resolve_url(settings.LOGIN_REDIRECT_URL)
    return JsonResponse({"redirect": next_url})


# -- My profile: managing factors --------------------------------------------------------------------------------------


def _identity_confirmed(request: HttpRequest, form: ConfirmIdentityForm) -> bool:
    """The password or a current code, counted like sign-in attempts so this is no guessing oracle."""
    password, code = form.cleaned_data.get("password"), form.cleaned_data.get("code")
    if password and request.user.check_password(password):
        return True
    if code and second_factor_verify_code(user=request.user, code=code):
        return True
    form.add_error(None, _("That password or code is not right."))
    _failure(request, factor="confirm", message=_("That password or code is not right."))
    return False


def _confirm_change(request: HttpRequest, *, title: str, message: str, button_label: str, change) -> HttpResponse:
    form = ConfirmIdentityForm(request.POST or None)
    status = 200
    if request.method == "POST":
        lock = _lock_of(request)
        if lock is not None:
            return _refuse_locked(request, lock)
        if form.is_valid() and _identity_confirmed(request, form):
            try:
                return change()
            except ValidationError as error:
                form.add_error(None, error)
        lock = _lock_of(request)
        if lock is not None:
            return _refuse_locked(request, lock)
        status = 400
    context = {"form": form, "title": title, "message": message, "button_label": button_label}
    return render(request, "authentication/confirm_identity.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def totp_remove_view(request: HttpRequest, pk: int) -> HttpResponse:
    device = get_object_or_404(TOTPDevice, pk=pk, user=request.user, confirmed=True)

    def change():
        totp_remove(actor=request.user, device=device)
        messages.success(request, _("The authenticator app %(name)s is removed.") % {"name": device.name})
        return redirect("accounts:profile")

    return _confirm_change(
        request,
        title=_("Remove the authenticator app %(name)s?") % {"name": device.name},
        message=_("Its codes stop working at once."),
        button_label=_("Remove"),
        change=change,
    )


@login_required
@require_http_methods(["GET", "POST"])
def passkey_remove_view(request: HttpRequest, pk: int) -> HttpResponse:
    passkey = get_object_or_404(Passkey, pk=pk, user=request.user)

    def change():
        passkey_remove(actor=request.user, passkey=passkey)
        messages.success(request, _("The passkey %(name)s is removed.") % {"name": passkey.name})
        return redirect("accounts:profile")

    return _confirm_change(
        request,
        title=_("Remove the passkey %(name)s?") % {"name": passkey.name},
        message=_("You can no longer sign in with it."),
        button_label=_("Remove"),
        change=change,
    )


@login_required
@require_http_methods(["GET", "POST"])
def recovery_codes_regenerate_view(request: HttpRequest) -> HttpResponse:
    def change():
        codes = recovery_codes_regenerate(actor=request.user, user=request.user)
        request.session[RECOVERY_CODES_SESSION_KEY] = {"codes": codes, "next": reverse("accounts:profile")}
        return redirect("accounts:recovery_codes_show")

    return _confirm_change(
        request,
        title=_("Make new recovery codes?"),
        message=_("Your current recovery codes stop working. The new ones are shown once."),
        button_label=_("Make new codes"),
        change=change,
    )


# -- unlocking with the emailed link -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def unlock(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks, POST unlocks: mail scanners that open links must not unlock accounts."""
    if request.method == "POST":
        try:
            account_unlock_by_link(token=token)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Your account is unlocked. You can sign in again."))
        return redirect("accounts:login")
    return render(request, "authentication/unlock.html", {"token": token})
