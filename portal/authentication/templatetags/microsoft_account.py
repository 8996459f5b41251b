"""The signed-in user's linked Microsoft account, for the My profile card (no view has to pass it)."""

from django import template

from portal.authentication.models import AuthenticationSettings, MicrosoftIdentity
from portal.authentication.selectors import authentication_settings_get, microsoft_identity_of

register = template.Library()


@register.simple_tag(takes_context=True)
def linked_microsoft_account(context) -> MicrosoftIdentity | None:
    request = context.get("request")
    return microsoft_identity_of(user=getattr(request, "user", None))


@register.simple_tag
def sign_in_methods() -> AuthenticationSettings:
    """Which sign-in methods are on (the My profile card offers linking only what signs in)."""
    return authentication_settings_get()
