"""Notifications to another partner's administrators. Notifications live in partner schemas, so
this switches to the recipient partner's schema; each administrator reads them in their own language."""

from collections.abc import Callable

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
    """Notify the partner's administrators; `title` and `body` are called once per administrator's
    language (see `notification_create`)."""
    with schema_context(partner.schema_name):
        return len(
            notification_create(recipients=list(administrators_active()), title=title, body=body, url=url, level=level)
        )
