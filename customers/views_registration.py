"""Customer self-registration: the public sign-up form on the partner's host (404 while the partner keeps
it closed), the verification link, and Settings > Customer registration. Views stay thin."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from customers.choices import CustomerRegistrationStatus
from customers.forms_registration import CustomerRegistrationForm, CustomerRegistrationSettingsForm
from customers.models import CustomerRegistration
from customers.selectors_registration import (
    customer_registration_allowed,
    customer_registration_from_verify_token,
    customer_registration_settings_get,
    customer_registrations_for_review,
)
from customers.services_registration import (
    customer_registration_approve,
    customer_registration_reject,
    customer_registration_settings_update,
    customer_registration_start,
    customer_registration_verify,
)
from portal.accounts.choices import AccessLevel, PermissionModule
from portal.accounts.permissions import permission_required, user_has_permission
from portal.accounts.views_settings import form_add_service_error, paginate, settings_context
from portal.audit.context import client_ip
from portal.authentication.services_throttle import registration_count


def _open_or_404() -> None:
    if not customer_registration_allowed():
        raise Http404


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    _open_or_404()
    form = CustomerRegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        lock = registration_count(email=data["email"], address=client_ip(request))
        if lock is not None:
            form.add_error(None, lock.message)
            return render(request, "customers/registration_form.html", {"form": form}, status=429)
        try:
            customer_registration_start(
                company_name=data["company_name"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                password=data["password"],
                country=data["country"],
                phone=data["phone"],
                address_line1=data["address_line1"],
                city=data["city"],
                postal_code=data["postal_code"],
                vat_number=data["vat_number"],
                language=translation.get_language() or "en",
            )
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            return redirect("customer_registration:sent")
    return render(request, "customers/registration_form.html", {"form": form})


@require_GET
def sent(request: HttpRequest) -> HttpResponse:
    _open_or_404()
    return render(request, "customers/registration_sent.html")


@require_GET
def verify(request: HttpRequest, token: str) -> HttpResponse:
    _open_or_404()
    found = customer_registration_from_verify_token(token=token)
    if found is None:
        return render(request, "customers/registration_invalid.html", status=404)
    registration = customer_registration_verify(registration=found)
    return render(request, "customers/registration_verified.html", {"registration": registration})


# -- Settings > Customer registration ------------------------------------------------------------------------


def _can_decide(request: HttpRequest) -> bool:
    """Approving makes a customer and a user: it takes managing both settings and customers."""
    return user_has_permission(request.user, PermissionModule.SETTINGS, AccessLevel.MANAGE) and user_has_permission(
        request.user, PermissionModule.CUSTOMERS, AccessLevel.MANAGE
    )


@permission_required(PermissionModule.SETTINGS, AccessLevel.VIEW)
@require_http_methods(["GET", "POST"])
def registration_settings(request: HttpRequest) -> HttpResponse:
    options = customer_registration_settings_get()
    initial = {"allow_registration": options.allow_registration, "auto_approve": options.auto_approve}
    form = CustomerRegistrationSettingsForm(request.POST or None, initial={**initial, "role": options.role})
    if request.method == "POST":
        if not _can_decide(request):
            raise PermissionDenied
        if form.is_valid():
            try:
                customer_registration_settings_update(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                form_add_service_error(form, error)
            else:
                messages.success(request, _("The customer registration settings were saved."))
                return redirect("registration_settings:index")
    context = settings_context(
        request,
        "customer_registration",
        form=form,
        options=options,
        can_decide=_can_decide(request),
        page=paginate(request, customer_registrations_for_review()),
        statuses=CustomerRegistrationStatus,
        register_path=request.build_absolute_uri("/register/") if options.allow_registration else "",
    )
    return render(request, "settings/customer_registration.html", context)


@permission_required(PermissionModule.SETTINGS, AccessLevel.VIEW)
@require_http_methods(["GET", "POST"])
def registration_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    """Approve or reject one registration, after a confirmation page."""
    if not _can_decide(request):
        raise PermissionDenied
    if decision not in ("approve", "reject"):
        raise Http404
    registration = get_object_or_404(CustomerRegistration, pk=pk)
    if request.method == "POST":
        service = customer_registration_approve if decision == "approve" else customer_registration_reject
        try:
            service(actor=request.user, registration=registration)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if decision == "approve":
                messages.success(request, _("%(name)s is now your customer.") % {"name": registration.company_name})
            else:
                messages.success(request, _("The registration was rejected."))
        return redirect("registration_settings:index")
    words = {"name": registration.company_name, "email": registration.email}
    if decision == "approve":
        title = _("Approve %(name)s") % words
        message = (
            _(
                "%(name)s becomes your customer, and %(email)s its administrator, who signs in with the password "
                "chosen at registration."
            )
            % words
        )
        button = _("Approve")
    else:
        title = _("Reject %(name)s") % words
        message = _("%(name)s does not become your customer; %(email)s may register again.") % words
        button = _("Reject")
    context = settings_context(
        request,
        "customer_registration",
        title=title,
        message=message,
        button_label=button,
        cancel_url=reverse("registration_settings:index"),
    )
    return render(request, "settings/confirm.html", context)
