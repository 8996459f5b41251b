from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from portal.microsoft.service import handoff_create, state_read
from portal.partners.models import Partner
from portal.partners.services import partner_url


@csrf_exempt  # Microsoft form-posts here; the signed state is the proof of origin
@require_http_methods(["GET", "POST"])
def callback(request: HttpRequest) -> HttpResponse:
    """The one redirect URI registered at Microsoft: hand the answer to the partner that asked."""
    params = {key: value for key, value in (request.POST if request.method == "POST" else request.GET).items()}
    try:
        state = state_read(params.get("state", ""))
    except signing.BadSignature:
        return render(
            request,
            "microsoft/callback_error.html",
            {"message": _("This sign-in or consent link is not valid or has expired. Start again from your console.")},
            status=400,
        )
    partner = Partner.objects.filter(schema_name=state.schema_name).exclude(schema_name="public").first()
    if partner is None:
        return render(
            request,
            "microsoft/callback_error.html",
            {"message": _("The console that started this no longer exists.")},
            status=404,
        )
    return HttpResponseRedirect(
        f"{partner_url(partner).rstrip('/')}{state.return_path}?handoff={handoff_create(params=params)}"
    )
