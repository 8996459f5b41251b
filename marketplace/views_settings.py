"""Settings > Marketplace capabilities: the capability matrix of every marketplace."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from marketplace.capabilities import capability_matrix
from portal.accounts.choices import AccessLevel, PermissionModule
from portal.accounts.permissions import permission_required


@permission_required(PermissionModule.SETTINGS, AccessLevel.VIEW)
@require_GET
def capability_matrix_view(request: HttpRequest) -> HttpResponse:
    marketplaces, rows = capability_matrix()
    return render(
        request,
        "settings/marketplace_capabilities.html",
        {"marketplaces": marketplaces, "rows": rows, "settings_section": "marketplace_capabilities"},
    )
