"""Where the current request comes from, for audit events written deep inside services.

Services take the actor explicitly; the client's IP address is request metadata that would
otherwise have to be threaded through every call, so a middleware puts it in a context variable.
"""

from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse

current_ip_address: ContextVar[str | None] = ContextVar("current_ip_address", default=None)


def client_ip(request: HttpRequest) -> str | None:
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR") or None


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_ip_address.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            current_ip_address.reset(token)
