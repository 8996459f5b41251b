"""The signed-in user's linked Microsoft account, for the My profile card (no view has to pass it)."""

from django import template

from portal.authentication.models import MicrosoftIdentity
from portal.authentication.selectors import microsoft_identity_of

register = template.Library()


@register.simple_tag(takes_context=True)
def linked_microsoft_account(context) -> MicrosoftIdentity | None:
    request = context.get("request")
    return microsoft_identity_of(user=getattr(request, "user", None))
