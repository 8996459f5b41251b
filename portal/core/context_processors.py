from django.conf import settings
from django.db import connection
from django.http import HttpRequest

from portal.core.navigation import navigation_for


def console(request: HttpRequest) -> dict:
    partner = getattr(request, "tenant", None)
    context = {"portal_domain": settings.PORTAL_DOMAIN, "partner": None, "navigation": None}
    if partner is None or connection.schema_name == "public" or partner.schema_name == "public":
        return context
    context["partner"] = partner
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        context["navigation"] = navigation_for(
            partner=partner, user=user, path=request.path, requested_tab=request.GET.get("tab")
        )
    return context
