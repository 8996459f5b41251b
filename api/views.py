"""Settings > API tokens: list, create (the token is shown once), revoke."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from api.forms import ApiTokenForm
from api.selectors import api_tokens_for_list
from api.services import TOKEN_PREFIX, api_token_create, api_token_revoke
from portal.accounts.choices import AccessLevel, PermissionModule
from portal.accounts.permissions import permission_required
from portal.accounts.views_settings import form_add_service_error, paginate, settings_context
from portal.core.htmx import partial_template


@permission_required(PermissionModule.SETTINGS, AccessLevel.VIEW)
@require_GET
def api_token_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request, api_tokens_for_list())
    context = settings_context(
        request,
        "api_tokens",
        page=page,
        tokens=page.object_list,
        now=timezone.now(),
        token_prefix=f"{TOKEN_PREFIX}_",
    )
    return render(request, partial_template(request, "settings/api_token_list.html", "results"), context)


@permission_required(PermissionModule.SETTINGS, AccessLevel.MANAGE)
@require_http_methods(["GET", "POST"])
@never_cache
def api_token_create_view(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = api_token_create(
                actor=request.user, name=form.cleaned_data["name"], scopes=form.scopes(), expires_at=form.expires_at()
            )
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            # Shown in this answer only: the console keeps a hash and can never show it again.
            context = settings_context(request, "api_tokens", token=created.token, plaintext=created.plaintext)
            return render(request, "settings/api_token_created.html", context)
    context = settings_context(
        request,
        "api_tokens",
        form=form,
        title=_("New API token"),
        cancel_url=reverse("settings:api_token_list"),
    )
    return render(request, "settings/api_token_form.html", context, status=400 if form.errors else 200)


@permission_required(PermissionModule.SETTINGS, AccessLevel.MANAGE)
@require_http_methods(["GET", "POST"])
def api_token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(api_tokens_for_list(), pk=pk)
    if request.method == "POST":
        api_token_revoke(actor=request.user, token=token)
        messages.success(request, _("The token %(name)s is revoked: requests with it are refused.") % {"name": token})
        return redirect("settings:api_token_list")
    context = settings_context(
        request,
        "api_tokens",
        title=_("Revoke the API token %(name)s?") % {"name": token},
        message=_("Every request with this token is refused from now on. This cannot be undone."),
        button_label=_("Revoke"),
        cancel_url=reverse("settings:api_token_list"),
        refusal=_("This token is already revoked.") if token.revoked_at else "",
    )
    return render(request, "settings/confirm.html", context)
