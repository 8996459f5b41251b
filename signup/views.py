"""Partner sign-up on the public host: the form, the data centre a country implies, the emailed
verification link, and the progress page of the background provisioning."""

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from portal.core.htmx import partial_template
from portal.partners.choices import DataCentre
from portal.partners.services import partner_primary_host, partner_url
from resellers.selectors import reseller_invitation_from_token
from signup.choices import STEP_PERCENT, SignUpStatus, SignUpStep
from signup.forms import SignUpForm
from signup.selectors import data_centre_for_country, sign_up_by_public_id, sign_up_from_verify_token
from signup.services import sign_up_start, sign_up_verify


@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    token = request.POST.get("invitation") if request.method == "POST" else request.GET.get("invitation", "")
    invitation = reseller_invitation_from_token(token=token) if token else None
    if token and invitation is None and request.method == "GET":
        return render(request, "signup/invitation_invalid.html", status=404)
    initial = {"invitation": token or ""}
    if invitation is not None:
        initial |= {"admin_email": invitation.email, "organisation_name": invitation.organisation_name}
    form = SignUpForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            started = sign_up_start(
                organisation_name=data["organisation_name"],
                slug=data["slug"],
                country=data["country"],
                is_service_provider=data["is_service_provider"],
                is_large_account_reseller=data["is_large_account_reseller"],
                admin_email=data["admin_email"],
                password=data["password"],
                terms_accepted=data["terms"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                language=translation.get_language() or "en",
                invitation=invitation,
            )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
        else:
            return redirect("signup:progress", public_id=started.public_id)
    country = form["country"].value() or ""
    return render(
        request,
        "signup/sign_up.html",
        {"form": form, "invitation": invitation, "data_centre": data_centre_for_country(country) if country else None},
    )


@require_GET
def data_centre(request: HttpRequest) -> HttpResponse:
    """The data centre the chosen country/region implies, shown before the form is sent."""
    country = request.GET.get("country", "")
    return render(
        request,
        "signup/sign_up.html#data_centre",
        {"data_centre": data_centre_for_country(country) if country else None},
    )


@require_GET
def verify(request: HttpRequest, token: str) -> HttpResponse:
    found = sign_up_from_verify_token(token=token)
    if found is None:
        return render(request, "signup/verify_invalid.html", status=404)
    sign_up_verify(sign_up=found)
    return redirect("signup:progress", public_id=found.public_id)


@require_GET
def progress(request: HttpRequest, public_id) -> HttpResponse:
    found = sign_up_by_public_id(public_id)
    if found is None:
        raise Http404(_("No such sign-up."))
    reached = list(SignUpStep).index(SignUpStep(found.step)) if found.step else -1
    steps = [
        (step, index < reached or found.status == SignUpStatus.READY, index == reached)
        for index, step in enumerate(SignUpStep)
        if step != SignUpStep.INVITATION or found.invitation_id is not None
    ]
    return render(
        request,
        partial_template(request, "signup/progress.html", "progress"),
        {
            "sign_up": found,
            "statuses": SignUpStatus,
            "steps": steps,
            "percent": STEP_PERCENT.get(SignUpStep(found.step), 0) if found.step else 0,
            "host": partner_primary_host(found.slug),
            "data_centre_label": DataCentre(found.data_centre).label,
            "sign_in_url": f"{partner_url(found.partner)}accounts/sign-in/" if found.partner else "",
            "polling": found.status in (SignUpStatus.QUEUED, SignUpStatus.PROVISIONING),
        },
    )


def terms(request: HttpRequest) -> HttpResponse:
    return render(request, "signup/terms.html")
