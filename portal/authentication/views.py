"""Sign in with Microsoft, linking a Microsoft account (My profile, invitations), and Settings >
Authentication with its trusted directories (partner hosts).

A Microsoft flow starts here, goes to Microsoft, comes back through the ONE public callback
(`portal.microsoft.views_public.callback`), which hands the answer to the completion views below in
a signed, short-lived `handoff`. The completion views trust the answer only if its `state` is the
one this browser's session kept when it started the flow.
"""

import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.accounts.choices import AccessLevel, PermissionModule
from portal.accounts.permissions import permission_required, user_has_permission
from portal.accounts.selectors import invitation_by_token, invitation_problem
from portal.accounts.services import InvitationInvalid, invitation_accept_with_microsoft
from portal.audit.choices import AuditResult
from portal.audit.context import client_ip
from portal.audit.services import model_snapshot
from portal.authentication.choices import SecondFactor, SignInMethod
from portal.authentication.forms import AuthenticationSettingsForm
from portal.authentication.models import TrustedDirectory
from portal.authentication.selectors import authentication_settings_get, microsoft_identity_of, trusted_directories
from portal.authentication.services import (
    SETTINGS_FIELDS,
    SignInRefused,
    authentication_settings_update,
    microsoft_identity_link,
    microsoft_identity_unlink,
    microsoft_sign_in_user,
    sign_in_record,
    trusted_directory_add,
    trusted_directory_remove,
)
from portal.authentication.services_throttle import sign_in_failure_record, sign_in_lock_of
from portal.authentication.session import microsoft_mfa_done, sign_in_establish
from portal.core.htmx import partial_template
from portal.microsoft.identity import (
    AccessDenied,
    FlowExpired,
    IdentityError,
    SignedInUser,
    StateMismatch,
    TokenError,
)
from portal.microsoft.service import handoff_read, identity_client, public_callback_url, state_create

SIGN_IN_SESSION_KEY = "microsoft_sign_in"
LINK_SESSION_KEY = "microsoft_link"
INVITATION_SESSION_KEY = "microsoft_invitation"
TRUST_SESSION_KEY = "microsoft_trust"
SIGN_IN_BACKEND = "portal.accounts.backends.UsernameOrEmailBackend"


class FlowRefused(Exception):
    """The answer that came back cannot be used; ``message`` says why, ``reason`` goes to the audit trail."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


def _identity_error_message(error: IdentityError) -> str:
    if isinstance(error, StateMismatch):
        return _(
            "This Microsoft sign-in was not started in this browser (forged or mismatched state). Please start again."
        )
    if isinstance(error, FlowExpired):
        return _("The Microsoft sign-in took too long and has expired. Please start again.")
    if isinstance(error, AccessDenied):
        return _("Microsoft sign-in was cancelled, so you are not signed in.")
    if isinstance(error, TokenError):
        return _("Microsoft could not confirm who you are. Please try again in a moment.")
    return _("Microsoft sign-in did not work. Please try again.")


def _flow_start(
    request: HttpRequest,
    *,
    session_key: str,
    return_url_name: str,
    purpose: str,
    next_url: str = "",
    extra: dict[str, Any] | None = None,
    personal: bool = False,
):
    """Send the browser to Microsoft, keeping what the completion view needs to check the answer.
    ``personal`` asks the consumer authority, which signs in personal Microsoft accounts only."""
    state = state_create(schema_name=connection.schema_name, return_path=reverse(return_url_name), purpose=purpose)
    auth_uri, flow = identity_client().sign_in_start(
        redirect_uri=public_callback_url(), state=state, prompt="select_account", personal=personal
    )
    request.session[session_key] = {
        "flow": flow,
        "state": state,
        "started_at": time.time(),
        "next": next_url,
        "personal": personal,
        **(extra or {}),
    }
    return HttpResponseRedirect(auth_uri)


def _flow_finish(request: HttpRequest, *, session_key: str) -> tuple[SignedInUser, dict[str, Any]]:
    """The verified Microsoft account of the flow this session started; raises FlowRefused or IdentityError."""
    pending = request.session.pop(session_key, None) or {}  # one answer per flow: a replay finds nothing
    try:
        params = handoff_read(request.GET.get("handoff", ""))
    except signing.BadSignature as error:
        raise FlowRefused(
            _("This Microsoft sign-in link is not valid or has expired. Please start again."), reason="bad handoff"
        ) from error
    if not pending.get("state") or not constant_time_compare(str(params.get("state", "")), pending["state"]):
        raise FlowRefused(
            _(
                "This Microsoft sign-in was not started in this browser (forged or mismatched state). "
                "Please start again."
            ),
            reason="forged or mismatched state",
        )
    account = identity_client().sign_in_complete(
        flow=pending.get("flow"),
        params=params,
        started_at=float(pending.get("started_at", 0)),
        personal=bool(pending.get("personal")),
    )
    return account, pending


def _safe_next(request: HttpRequest, next_url: str) -> str:
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _back_to_sign_in(next_url: str = "") -> HttpResponse:
    url = reverse("accounts:login")
    if next_url:
        url += "?" + urlencode({"next": next_url})
    return HttpResponseRedirect(url)


# -- sign in with Microsoft --------------------------------------------------------------------------------------------


@require_POST
def sign_in_start(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next", "")
    personal = request.POST.get("personal") == "1"
    methods = authentication_settings_get()
    if personal and not methods.allow_personal_microsoft_sign_in:
        messages.error(request, _("Sign-in with a personal Microsoft account is turned off for this console."))
        return _back_to_sign_in(next_url)
    if not personal and not methods.allow_microsoft_sign_in:
        messages.error(request, _("Sign-in with Microsoft is turned off for this console."))
        return _back_to_sign_in(next_url)
    if personal:
        lock = sign_in_lock_of(user=None, identifier="", address=client_ip(request))
        if lock is not None:
            messages.error(request, lock.message)
            return _back_to_sign_in(next_url)
    try:
        return _flow_start(
            request,
            session_key=SIGN_IN_SESSION_KEY,
            return_url_name="microsoft:sign_in_complete",
            purpose="sign-in",
            next_url=next_url,
            personal=personal,
        )
    except IdentityError:
        messages.error(request, _("Microsoft sign-in is not available right now. Please try again later."))
        return _back_to_sign_in(next_url)


@require_GET
def sign_in_complete(request: HttpRequest) -> HttpResponse:
    next_url = (request.session.get(SIGN_IN_SESSION_KEY) or {}).get("next", "")
    try:
        account, pending = _flow_finish(request, session_key=SIGN_IN_SESSION_KEY)
    except FlowRefused as refused:
        sign_in_record(method=SignInMethod.MICROSOFT, result=AuditResult.FAILURE, message=refused.reason)
        messages.error(request, refused.message)
        return _back_to_sign_in(next_url)
    except IdentityError as error:
        sign_in_record(
            method=SignInMethod.MICROSOFT,
            result=AuditResult.FAILURE,
            message=f"{type(error).__name__}: {error}",
            details={"error": error.error} if error.error else None,
        )
        messages.error(request, _identity_error_message(error))
        return _back_to_sign_in(next_url)
    details = {"tid": account.tid, "oid": account.oid}
    claimed = account.preferred_username or account.oid
    if account.personal:
        details["personal"] = True
        lock = sign_in_lock_of(user=None, identifier=claimed, address=client_ip(request))
        if lock is not None:
            sign_in_record(
                method=SignInMethod.MICROSOFT, result=AuditResult.FAILURE, identifier=claimed, message=lock.message
            )
            messages.error(request, lock.message)
            return _back_to_sign_in(next_url)
    try:
        user = microsoft_sign_in_user(account=account)
    except SignInRefused as refused:
        if account.personal:
            # anyone can make personal accounts: refusals count against the address like wrong passwords
            sign_in_failure_record(user=None, identifier=claimed, address=client_ip(request))
        sign_in_record(
            method=SignInMethod.MICROSOFT,
            result=AuditResult.FAILURE,
            user=refused.user,
            identifier=claimed,
            message="Microsoft account not linked" if refused.not_linked else str(refused.message),
            details={**details, "email_claim": account.email} if refused.not_linked else details,
        )
        if refused.not_linked:
            context = {"account": account, "next": pending.get("next", ""), "personal": account.personal}
            return render(request, "authentication/microsoft_not_linked.html", context, status=403)
        messages.error(request, refused.message)
        return _back_to_sign_in(next_url)
    # Microsoft's own MFA counts as the second factor only when the token says it happened (amr has "mfa").
    sign_in_establish(request, user, second_factor=SecondFactor.MICROSOFT if microsoft_mfa_done(account) else "")
    sign_in_record(method=SignInMethod.MICROSOFT, result=AuditResult.SUCCESS, user=user, details=details)
    return HttpResponseRedirect(_safe_next(request, pending.get("next", "")))


# -- Settings > Authentication -----------------------------------------------------------------------------------------


@permission_required(PermissionModule.SETTINGS, AccessLevel.VIEW)
@require_http_methods(["GET", "POST"])
def authentication_settings(request: HttpRequest) -> HttpResponse:
    template = partial_template(request, "authentication/authentication_settings.html", "settings_form")
    can_manage = user_has_permission(request.user, PermissionModule.SETTINGS, AccessLevel.MANAGE)
    current = authentication_settings_get()
    initial = model_snapshot(current, SETTINGS_FIELDS)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        form = AuthenticationSettingsForm(request.POST, initial=initial)
        if form.is_valid():
            try:
                authentication_settings_update(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The sign-in methods were saved."))
                if not request.htmx:
                    return redirect("microsoft:authentication_settings")
                form = AuthenticationSettingsForm(initial=form.cleaned_data)
    else:
        form = AuthenticationSettingsForm(initial=initial)
    client = identity_client()
    context = {
        "form": form,
        "can_manage": can_manage,
        "sign_in_settings": current,
        "identity": microsoft_identity_of(user=request.user),
        "trusted_directories": list(trusted_directories()),
        "microsoft": {
            "client_id": client.client_id,
            "authority": f"{client.authority_base}/organizations",
            "redirect_uri": public_callback_url(),
            "simulator_url": settings.MICROSOFT_SIMULATOR_URL,
        },
    }
    return render(request, template, context)


# -- trusted directories (Settings > Authentication) ---------------------------------------------------------------


@permission_required(PermissionModule.SETTINGS, AccessLevel.MANAGE)
@require_POST
def trusted_directory_add_start(request: HttpRequest) -> HttpResponse:
    """Adding a directory starts with signing in with one of its accounts: that verifies the directory."""
    try:
        return _flow_start(
            request,
            session_key=TRUST_SESSION_KEY,
            return_url_name="microsoft:trusted_directory_add_complete",
            purpose="trust",
        )
    except IdentityError:
        messages.error(request, _("Microsoft sign-in is not available right now. Please try again later."))
        return redirect("microsoft:authentication_settings")


@permission_required(PermissionModule.SETTINGS, AccessLevel.MANAGE)
@require_GET
def trusted_directory_add_complete(request: HttpRequest) -> HttpResponse:
    try:
        account, _pending = _flow_finish(request, session_key=TRUST_SESSION_KEY)
        directory = trusted_directory_add(actor=request.user, account=account)
    except FlowRefused as refused:
        messages.error(request, refused.message)
    except IdentityError as error:
        messages.error(request, _identity_error_message(error))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("The directory %(name)s (%(tid)s) is trusted now.")
            % {"name": directory.name or directory.tid, "tid": directory.tid},
        )
    return redirect("microsoft:authentication_settings")


@permission_required(PermissionModule.SETTINGS, AccessLevel.MANAGE)
@require_POST
def trusted_directory_remove_view(request: HttpRequest, pk: int) -> HttpResponse:
    directory = get_object_or_404(TrustedDirectory, pk=pk)
    trusted_directory_remove(actor=request.user, directory=directory)
    messages.success(
        request,
        _("The directory %(name)s is no longer trusted. Accounts already linked keep working.")
        % {"name": directory.name or directory.tid},
    )
    return redirect("microsoft:authentication_settings")


# -- your own Microsoft account (My profile) ---------------------------------------------------------------------------


@login_required
@require_POST
def link_start(request: HttpRequest) -> HttpResponse:
    personal = request.POST.get("personal") == "1"
    if personal and not authentication_settings_get().allow_personal_microsoft_sign_in:
        messages.error(request, _("Sign-in with a personal Microsoft account is turned off for this console."))
        return redirect("accounts:profile")
    try:
        return _flow_start(
            request,
            session_key=LINK_SESSION_KEY,
            return_url_name="accounts:microsoft_link_complete",
            purpose="link",
            personal=personal,
        )
    except IdentityError:
        messages.error(request, _("Microsoft sign-in is not available right now. Please try again later."))
        return redirect("accounts:profile")


@login_required
@require_GET
def link_complete(request: HttpRequest) -> HttpResponse:
    try:
        account, _pending = _flow_finish(request, session_key=LINK_SESSION_KEY)
        microsoft_identity_link(actor=request.user, user=request.user, account=account)
    except FlowRefused as refused:
        messages.error(request, refused.message)
    except IdentityError as error:
        messages.error(request, _identity_error_message(error))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Your Microsoft account %(account)s is linked. You can sign in with it.")
            % {"account": account.preferred_username or account.oid},
        )
    return redirect("accounts:profile")


@login_required
@require_POST
def unlink(request: HttpRequest) -> HttpResponse:
    identity = microsoft_identity_of(user=request.user)
    if identity is None:
        messages.info(request, _("You have no linked Microsoft account."))
        return redirect("accounts:profile")
    try:
        microsoft_identity_unlink(actor=request.user, identity=identity)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Your Microsoft account was unlinked."))
    return redirect("accounts:profile")


# -- accepting an invitation with Microsoft ----------------------------------------------------------------------------


@never_cache
@require_POST
def invitation_microsoft_start(request: HttpRequest, token: str) -> HttpResponse:
    """The invitation link is the proof of who was invited: the Microsoft account it is accepted with is linked."""
    invitation = invitation_by_token(token=token)
    problem = invitation_problem(invitation)
    if problem is not None:
        return render(request, "accounts/invitation_invalid.html", {"problem": problem}, status=410)
    back = reverse("accounts:invitation_accept", kwargs={"token": token})
    if not authentication_settings_get().allow_microsoft_sign_in:
        messages.error(request, _("Sign-in with Microsoft is turned off for this console."))
        return HttpResponseRedirect(back)
    try:
        return _flow_start(
            request,
            session_key=INVITATION_SESSION_KEY,
            return_url_name="accounts:invitation_microsoft_complete",
            purpose="invitation",
            extra={"invitation_id": invitation.pk, "back": back},
        )
    except IdentityError:
        messages.error(request, _("Microsoft sign-in is not available right now. Please try again later."))
        return HttpResponseRedirect(back)


@never_cache
@require_GET
def invitation_microsoft_complete(request: HttpRequest) -> HttpResponse:
    started = request.session.get(INVITATION_SESSION_KEY) or {}
    back = started.get("back") or reverse("accounts:login")
    try:
        account, pending = _flow_finish(request, session_key=INVITATION_SESSION_KEY)
        user = invitation_accept_with_microsoft(invitation_id=int(pending.get("invitation_id") or 0), account=account)
    except InvitationInvalid as error:
        return render(request, "accounts/invitation_invalid.html", {"problem": error.problem}, status=410)
    except FlowRefused as refused:
        messages.error(request, refused.message)
        return HttpResponseRedirect(back)
    except IdentityError as error:
        messages.error(request, _identity_error_message(error))
        return HttpResponseRedirect(back)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return HttpResponseRedirect(back)
    sign_in_establish(request, user, second_factor=SecondFactor.MICROSOFT if microsoft_mfa_done(account) else "")
    sign_in_record(
        method=SignInMethod.MICROSOFT,
        result=AuditResult.SUCCESS,
        user=user,
        details={"tid": account.tid, "oid": account.oid},
    )
    messages.success(
        request,
        _("Welcome! Your Microsoft account %(account)s is linked and you are signed in.")
        % {"account": account.preferred_username or account.oid},
    )
    return redirect("core:home")
