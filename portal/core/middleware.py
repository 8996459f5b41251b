from django.contrib import messages
from django.contrib.auth import logout
from django.db import connection
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django_tenants.middleware.main import TenantMainMiddleware

from portal.accounts.locale import language_of, time_zone_of
from portal.partners.choices import PartnerStatus
from portal.partners.models import SchemaMigrationState
from portal.partners.schema_migrations import partner_schema_is_current

SESSION_SCHEMA_KEY = "_partner_schema"


class PartnerMiddleware(TenantMainMiddleware):
    """Resolves the partner from the host, and refuses partners that are not active, or whose schema is
    still behind the code's migrations during a deploy (the maintenance page, not errors)."""

    def get_tenant(self, domain_model, hostname):
        # The schema's recorded migration state comes with the same query, so a current partner costs nothing.
        state = SchemaMigrationState.objects.filter(schema_name=OuterRef("tenant__schema_name")).values("digest")[:1]
        domain = (
            domain_model.objects.select_related("tenant").annotate(schema_digest=Subquery(state)).get(domain=hostname)
        )
        domain.tenant.schema_digest = domain.schema_digest
        return domain.tenant

    def process_request(self, request: HttpRequest):
        response = super().process_request(request)
        if response is not None:
            return response
        partner = request.tenant
        if partner.schema_name == "public":
            return None
        if partner.status != PartnerStatus.ACTIVE:
            connection.set_schema_to_public()
            status = 503 if partner.status == PartnerStatus.PROVISIONING else 403
            return render(request, "core/partner_unavailable.html", {"partner": partner}, status=status)
        if not partner_schema_is_current(partner.schema_name, getattr(partner, "schema_digest", None)):
            connection.set_schema_to_public()
            response = render(
                request, "core/partner_unavailable.html", {"partner": partner, "maintenance": True}, status=503
            )
            response["Retry-After"] = "60"
            return response
        return None


class SessionPartnerGuardMiddleware:
    """Defence in depth: a session is bound to the schema it was created in.

    Sessions already live in each partner's schema, so a cookie taken to another host finds no
    session there. If one ever did (a restored backup, a copied schema), this refuses it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            bound = request.session.get(SESSION_SCHEMA_KEY)
            if bound is None:
                request.session[SESSION_SCHEMA_KEY] = connection.schema_name
            elif bound != connection.schema_name:
                logout(request)
        return self.get_response(request)


class UserLocaleMiddleware:
    """The signed-in user's language and time zone (My profile) win over the browser's language.

    Anonymous visitors (sign-in, the public catalog) get the language Django's LocaleMiddleware chose:
    the one picked with the switcher (a cookie), else the browser's Accept-Language.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        language = language_of(user)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        timezone.activate(time_zone_of(user))
        try:
            response = self.get_response(request)
        finally:
            timezone.deactivate()
        response.headers.setdefault("Content-Language", language)
        return response


class HtmxMessagesMiddleware:
    """Django messages on htmx responses, as an out-of-band swap of the page's message area.

    Full pages render messages in the base template; an htmx fragment would otherwise leave them
    queued until the next full page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        htmx = getattr(request, "htmx", None)
        if not htmx or htmx.boosted or response.streaming or "HX-Redirect" in response.headers:
            return response
        if not response.get("Content-Type", "").startswith("text/html") or 300 <= response.status_code < 400:
            return response
        queued = list(messages.get_messages(request))
        if queued:
            fragment = render_to_string("core/partials/messages.html", {"messages": queued, "oob": True}, request)
            response.content += fragment.encode()
        return response
