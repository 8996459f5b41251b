"""Terms and conditions: accepting the version in force, and Settings > Terms and conditions. Views stay thin."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from portal.accounts.choices import AccessLevel, PermissionModule
from portal.accounts.models import TermsVersion
from portal.accounts.permissions import permission_required
from portal.accounts.terms import TERMS_MAX_LENGTH, terms_accept, terms_current, terms_pending_for, terms_publish
from portal.accounts.views_settings import can_manage_settings, form_add_service_error, settings_context


class TermsPublishForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Terms and conditions"),
        max_length=TERMS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=gettext_lazy("Publishing makes this the version in force: every user accepts it at their next step."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def terms_accept_view(request: HttpRequest) -> HttpResponse:
    terms = terms_pending_for(request.user)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    if terms is None:  # nothing to accept: the version in force, for reading
        return render(request, "accounts/terms_accept.html", {"terms": terms_current(), "accepted": True})
    if request.method == "POST":
        if str(terms.pk) != request.POST.get("terms", ""):
            messages.error(request, _("The terms changed while you read them: read and accept the version below."))
        else:
            terms_accept(user=request.user, terms=terms)
            return redirect(next_url or "core:home")
    return render(request, "accounts/terms_accept.html", {"terms": terms, "next_url": next_url})


@permission_required(PermissionModule.SETTINGS, AccessLevel.VIEW)
@require_http_methods(["GET", "POST"])
def terms_settings(request: HttpRequest) -> HttpResponse:
    """Settings > Terms and conditions: the versions published, and publishing a new one."""
    versions = TermsVersion.objects.select_related("published_by").order_by("-version")
    current = versions.first()
    form = TermsPublishForm(request.POST or None, initial={"text": current.text if current else ""})
    if request.method == "POST":
        if not can_manage_settings(request):
            raise PermissionDenied
        if form.is_valid():
            try:
                terms = terms_publish(actor=request.user, text=form.cleaned_data["text"])
            except ValidationError as error:
                form_add_service_error(form, error)
            else:
                messages.success(
                    request,
                    _("Version %(version)d is in force: every user accepts it next.") % {"version": terms.version},
                )
                return redirect("settings:terms")
    context = settings_context(request, "terms", form=form, versions=versions[:50])
    return render(request, "settings/terms.html", context)
