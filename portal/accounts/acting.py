"""A partner user "opens a customer's account": for the rest of the session they see the console as
that customer's tenant admins do, one customer's objects and nothing else, until they go back.

The session holds the customer's id and name. For each request `ActingCustomerMiddleware` marks the
signed-in user object (in memory only, never saved) as acting for that customer: it then has the
customer tenant admin's kind, so the module ceiling, the hidden cost prices and every screen's
customer-admin rules apply, and `customers.selectors.customers_visible_to` narrows to that one
customer. Starting and leaving are audited by the customers app, which owns the customer.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from portal.accounts.choices import UserKind

ACTING_CUSTOMER_SESSION_KEY = "accounts.acting_customer"


def acting_customer_id(user) -> int | None:
    """The customer the user acts for in this request, or None."""
    return getattr(user, "acting_customer_id", None)


class ActingCustomerMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        acting = request.session.get(ACTING_CUSTOMER_SESSION_KEY) if hasattr(request, "session") else None
        if user is not None and user.is_authenticated and isinstance(acting, dict):
            if user.kind == UserKind.PARTNER and isinstance(acting.get("id"), int):
                user.acting_customer_id = acting["id"]
                user.acting_customer_name = str(acting.get("name") or "")
                user.acting_partner_kind = user.kind
                user.kind = UserKind.CUSTOMER_ADMIN
            else:
                request.session.pop(ACTING_CUSTOMER_SESSION_KEY, None)
        return self.get_response(request)
