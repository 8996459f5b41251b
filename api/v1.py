"""The REST API, version 1, at /api/v1/ on each partner's host.

Built on django-ninja rather than Django REST framework: the schemas are the type hints the
endpoints already need (pydantic), the OpenAPI document is generated from them, and the interactive
docs (Swagger UI) ship inside the package and are served as our own static files, so they work
offline and under the console's Content-Security-Policy. Endpoints are plain functions that call
the screens' selectors, forms and services, as the console's views do; DRF's serializers and
viewsets would have been a second place for the validation the forms already hold.
"""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from api import routes_read, routes_subscriptions
from api.problems import PROBLEM_TYPE_BASE, PROBLEM_TYPES, ApiProblem, problem_from, problem_response

logger = logging.getLogger(__name__)

DESCRIPTION = f"""
The console's REST API. Authenticate with a token from Settings > API tokens:
`Authorization: Bearer <token>`. A token acts as the user who created it, within its scopes
(`<module>:read`, `<module>:write`); what that user may see and do on the screens is what the token
may see and do. Objects out of the user's scope are 404.

Every POST needs an `Idempotency-Key` header: a retry with the same key and body gets the first
answer (`Idempotent-Replayed: true`) instead of acting twice. Each token has a rate limit per
minute (429 with `Retry-After`).

Errors are RFC 9457 problem details (`application/problem+json`). Problem types
(`{PROBLEM_TYPE_BASE}<name>`):
""" + "\n".join(f"- `{slug}` ({status}): {title}" for slug, (status, title) in PROBLEM_TYPES.items())

api = NinjaAPI(
    title="MSP console API",  # untranslated: the OpenAPI document is for developers, in English
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    docs_decorator=login_required,
)
api.add_router("", routes_read.customers)
api.add_router("", routes_read.marketplace)
api.add_router("", routes_subscriptions.router)
api.add_router("", routes_read.reports)
api.add_router("", routes_read.pools)


@api.exception_handler(ApiProblem)
def _problem(request: HttpRequest, exc: ApiProblem) -> HttpResponse:
    return problem_from(request, exc)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem_response(
        request,
        401,
        detail="Send a valid, unexpired API token of this partner: Authorization: Bearer <token>.",
        headers={"WWW-Authenticate": 'Bearer realm="api"'},
    )


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = {".".join(str(part) for part in error.get("loc", ())): [error.get("msg", "")] for error in exc.errors}
    return problem_response(request, 422, slug="invalid-request", detail="Some fields are not valid.", errors=errors)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem_response(request, 404)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return problem_response(request, exc.status_code, detail=exc.message)


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API request failed: %s %s", request.method, request.path)
    return problem_response(request, 500, detail="The server failed; the request was not applied and may be retried.")
