"""Errors as RFC 9457 problem details (`application/problem+json`).

Every error the API answers is one of these: a `type` naming the kind of problem (`about:blank` when
the HTTP status says it all), a `title` for that kind, a `detail` for this occurrence, and extension
members where a client can act on them (`errors` for invalid fields, `guardrails` and `confirmation`
for amounts to confirm, `retry_after` for rate limits).
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponse

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "tag:msp-console,2026:problem/"

#: The problem types the API documents, by slug: (status, title).
PROBLEM_TYPES: dict[str, tuple[int, str]] = {
    "invalid-request": (422, "The request is not valid"),
    "insufficient-scope": (403, "The token's scopes do not include this"),
    "rate-limited": (429, "Too many requests for this token"),
    "idempotency-key-missing": (400, "An Idempotency-Key header is required on POST"),
    "idempotency-key-reused": (422, "This Idempotency-Key was used for a different request"),
    "confirmation-required": (409, "These amounts need a confirmation"),
    "refused": (409, "A rule refuses this action"),
    "conflict": (409, "The subscription changed since it was read"),
    "prices-changed": (409, "Prices changed since the order was built"),
}


class ApiProblem(Exception):
    def __init__(self, status: int, *, slug: str = "", title: str = "", detail: str = "", **extensions: Any) -> None:
        super().__init__(detail or title)
        self.status = status
        self.slug = slug
        self.title = title or (PROBLEM_TYPES[slug][1] if slug in PROBLEM_TYPES else HTTPStatus(status).phrase)
        self.detail = detail
        self.extensions = extensions
        self.headers: dict[str, str] = {}


def problem_response(
    request: HttpRequest | None,
    status: int,
    *,
    slug: str = "",
    title: str = "",
    detail: str = "",
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug if slug else "about:blank",
        "title": title or (PROBLEM_TYPES[slug][1] if slug in PROBLEM_TYPES else HTTPStatus(status).phrase),
        "status": status,
    }
    if detail:
        body["detail"] = str(detail)
    if request is not None:
        body["instance"] = request.path
    body.update(extensions)
    response = HttpResponse(json.dumps(body, default=str), status=status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def problem_from(request: HttpRequest, problem: ApiProblem) -> HttpResponse:
    return problem_response(
        request,
        problem.status,
        slug=problem.slug,
        title=problem.title,
        detail=problem.detail,
        headers=problem.headers,
        **problem.extensions,
    )


def form_errors(form) -> dict[str, list[str]]:
    """A Django form's errors by field (`__all__` for the form as a whole)."""
    return {field: [str(message) for message in messages] for field, messages in form.errors.items()}
