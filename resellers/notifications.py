"""Notifications to another partner's administrators. Notifications live in partner schemas, so
this switches to the recipient partner's schema and writes in its language."""

from collections.abc import Callable

from django.utils import translation
from django_tenants.utils import schema_context

from portal.accounts.selectors import administrators_active
from portal.audit.choices import NotificationLevel
from portal.audit.services import notification_create
from portal.partners.models import Partner


def partner_administrators_notify(
    *,
    partner: Partner,
    title: Callable[[], str],
    body: Callable[[], str] = str,
    url: str = "",
    level: str = NotificationLevel.INFO,
) -> int:
    """Notify the partner's administrators. `title` and `body` are called inside the partner's
    default language, so each partner reads its notifications in its own language."""
    with schema_context(partner.schema_name), translation.override(partner.default_language):
        return len(
            notification_create(
                recipients=list(administrators_active()), title=title(), body=body(), url=url, level=level
            )
        )
