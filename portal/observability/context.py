"""The request a log line belongs to: its id (from `X-Request-ID` when the proxy sent a sane one),
the partner schema and the user, for every line logged while it runs, including Celery's."""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

request_id: ContextVar[str] = ContextVar("request_id", default="")
user_id: ContextVar[str] = ContextVar("user_id", default="")

_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
REQUEST_ID_HEADER = "X-Request-ID"


class RequestContextMiddleware:
    """Put first: gives the request its id (answered in `X-Request-ID`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        # Set, not reset afterwards: Django logs a 4xx/5xx answer after the middleware returned, and
        # that line must name the request too. The next request on this thread sets its own.
        request_id.set(given if _SANE_ID.match(given) else uuid.uuid4().hex)
        user_id.set("")
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id.get()
        return response


class UserContextMiddleware:
    """After authentication: names the signed-in user (or the API token's) in the log lines."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            user_id.set(str(user.pk))
        return self.get_response(request)


def _schema_name() -> str:
    try:
        from django.db import connection

        return getattr(connection, "schema_name", "") or ""
    except Exception:  # logging must never fail
        return ""


class ContextFilter(logging.Filter):
    """Adds `request_id`, `partner_schema` and `user_id` to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.partner_schema = _schema_name()
        # the API authenticates inside the view, after the middleware ran: read the request's user late
        record.user_id = user_id.get()
        return True
