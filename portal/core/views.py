from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.accounts.choices import UserKind
from portal.accounts.services import user_profile_update
from portal.core.navigation import SECTION_BY_KEY, partner_sections
from portal.partners.selectors import partner_by_slug
from portal.partners.services import partner_url


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")  # untranslated: read by load balancers


def partner_not_found(request: HttpRequest) -> HttpResponse:
    """The host names no partner. Rendered from the public schema by PartnerMiddleware."""
    scheme = settings.PORTAL_SCHEME
    port = f":{settings.PORTAL_PORT}" if settings.PORTAL_PORT else ""
    context = {"host": request.get_host().split(":")[0], "landing_url": f"{scheme}://{settings.PORTAL_DOMAIN}{port}/"}
    return render(request, "core/partner_not_found.html", context, status=404)


class FindPartnerForm(forms.Form):
    partner = forms.CharField(
        label=gettext_lazy("Your partner"),
        max_length=60,
        help_text=gettext_lazy("The short name of your organisation in the console, as in acme.%(domain)s"),
    )


@require_http_methods(["GET", "POST"])
def landing(request: HttpRequest) -> HttpResponse:
    """Public host: asks which partner the user belongs to, and sends them to its host."""
    form = FindPartnerForm(request.POST or None)
    form.fields["partner"].help_text = form.fields["partner"].help_text % {"domain": settings.PORTAL_DOMAIN}
    if request.method == "POST" and form.is_valid():
        value = form.cleaned_data["partner"].strip().lower()
        slug = value.split(".")[0]
        partner = partner_by_slug(slug=slug)
        if partner is not None:
            return HttpResponseRedirect(partner_url(partner) + "accounts/sign-in/")
        form.add_error(
            "partner", _("No partner is called '%(name)s'. Check the name with your administrator.") % {"name": value}
        )
    return render(request, "core/landing.html", {"form": form})


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    partner = request.tenant
    sections = [section for section in partner_sections(partner, request.user) if section.key != "home"]
    context: dict = {"upcoming_sections": sections}
    # the partner's own facts are for its people, not for a customer tenant admin signed in to it
    if request.user.kind == UserKind.PARTNER:
        context["active_users"] = get_user_model().objects.filter(is_active=True).count()
    return render(request, "core/home.html", context)


@login_required
@require_GET
def section(request: HttpRequest, section: str) -> HttpResponse:
    """An honest placeholder for a section whose screens are not built yet."""
    found = SECTION_BY_KEY.get(section)
    if found is None or found not in partner_sections(request.tenant):
        raise Http404(_("No such section."))
    if found not in partner_sections(request.tenant, request.user):
        raise PermissionDenied
    return render(request, "core/coming_soon.html", {"section": found})


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """The language switcher (user menu, public catalog, sign-in page).

    A signed-in user's choice is their profile's language, so it follows them to emails and other
    devices; everyone also gets Django's language cookie, which keeps the public pages in that
    language after signing out.
    """
    language = request.POST.get("language", "")
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    if language not in dict(settings.LANGUAGES):
        messages.error(request, _("That language is not available."))
        return HttpResponseRedirect(target)
    if request.user.is_authenticated:
        user_profile_update(actor=request.user, user=request.user, changes={"language": language})
    response = HttpResponseRedirect(target)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
    )
    return response
