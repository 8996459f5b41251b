"""Terms and conditions with versions: the partner publishes a version, and every signed-in user
accepts the version in force before going on. Acceptance is recorded with the version and the time.

Reads (`terms_current`, `terms_pending_for`), writes (`terms_publish`, `terms_accept`, atomic and
audited) and the middleware that sends a user with pending terms to accept them.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from portal.accounts.models import TermsAcceptance, TermsVersion, User
from portal.accounts.types import Actor, actor_user
from portal.audit.choices import AuditAction
from portal.audit.services import audit_record

#: Pages a user with pending terms may still reach: the terms themselves, signing out, the second
#: factor (which comes first), and the language switcher.
OPEN_BEFORE_TERMS = frozenset(
    {
        "accounts:terms_accept",
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
TERMS_MAX_LENGTH = 100_000


TERMS_CACHE_KEY = "accounts.terms.current_version"
TERMS_SESSION_KEY = "accounts.terms.accepted_version"


def terms_current() -> TermsVersion | None:
    return TermsVersion.objects.order_by("-version").first()


def terms_current_version() -> int:
    """The number of the version in force (0: none), cached (the cache key carries the partner's schema)
    so that a request without anything to accept asks the database nothing."""
    version = cache.get(TERMS_CACHE_KEY)
    if version is None:
        version = TermsVersion.objects.aggregate(top=Max("version"))["top"] or 0
        cache.set(TERMS_CACHE_KEY, version, 300)
    return int(version)


def terms_pending_for(user) -> TermsVersion | None:
    """The version in force if the user has not accepted it yet."""
    current = terms_current()
    if current is None or TermsAcceptance.objects.filter(user_id=user.pk, terms=current).exists():
        return None
    return current


def terms_publish(*, actor: Actor, text: str) -> TermsVersion:
    """Publish a new version: from now on every user accepts it before going on."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write the terms and conditions to publish.")})
    if len(text) > TERMS_MAX_LENGTH:
        raise ValidationError({"text": _("The terms are longer than %(max)d characters.") % {"max": TERMS_MAX_LENGTH}})
    with transaction.atomic():
        latest = TermsVersion.objects.select_for_update().aggregate(top=Max("version"))["top"] or 0
        terms = TermsVersion.objects.create(version=latest + 1, text=text, published_by=actor_user(actor))
        audit_record(actor=actor, action=AuditAction.TERMS_PUBLISH, target=terms, after={"version": terms.version})
        cache.delete(TERMS_CACHE_KEY)
        transaction.on_commit(lambda: cache.delete(TERMS_CACHE_KEY))  # and again, once others can read it
    return terms


def terms_accept(*, user: User, terms: TermsVersion) -> TermsAcceptance:
    with transaction.atomic():
        try:
            with transaction.atomic():
                acceptance = TermsAcceptance.objects.create(user=user, terms=terms)
        except IntegrityError:
            return TermsAcceptance.objects.get(user=user, terms=terms)  # a double click accepts once
        audit_record(actor=user, action=AuditAction.TERMS_ACCEPT, target=terms, after={"version": terms.version})
    return acceptance


class TermsMiddleware:
    """A signed-in user accepts the terms in force before anything else (after their second factor)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if connection.schema_name == "public" or user is None or not user.is_authenticated:
            return None
        match = request.resolver_match
        if match is not None and match.view_name in OPEN_BEFORE_TERMS:
            return None
        current = terms_current_version()
        if current == 0 or request.session.get(TERMS_SESSION_KEY) == current:
            return None
        if terms_pending_for(user) is None:
            request.session[TERMS_SESSION_KEY] = current  # accepted earlier: not asked again this session
            return None
        target = reverse("accounts:terms_accept")
        if request.headers.get("HX-Request") == "true":
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(target)
