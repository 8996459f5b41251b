"""Who an API request acts as, what it may reach, how often, and POSTs that act once per key.

The order for every request: the bearer token (else 401), its rate limit (else 429), the token's
scope for the module (else 403), then the screens' own rule, the permission the token's user holds
for the module through their roles (none at all: 404 on an object's URL, as on the screens).
Objects are then looked up through the screens' selectors, scoped to that user: out of scope is 404.
"""

from __future__ import annotations

import hashlib
import time
from functools import wraps

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from ninja.security import HttpBearer

from api.choices import ApiAccess
from api.models import ApiToken, IdempotentResponse
from api.problems import ApiProblem, problem_from
from api.services import api_token_authenticate, token_has_scope, token_rate_limit
from portal.accounts.choices import AccessLevel
from portal.accounts.permissions import names_an_object, user_has_permission
from portal.observability.context import user_id

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
IDEMPOTENCY_HEADER = "Idempotency-Key"


def rate_limit_check(token: ApiToken, *, now: float | None = None) -> None:
    """A fixed one-minute window per token, counted in the shared cache (so every web process counts)."""
    now = now if now is not None else time.time()
    window = int(now // 60)
    key = f"api-rate:{token.pk}:{window}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=120)
        count = 1
    limit = token_rate_limit(token)
    if count > limit:
        retry_after = max(1, int((window + 1) * 60 - now))
        problem = ApiProblem(
            429,
            slug="rate-limited",
            detail=f"This token may make {limit} requests a minute.",
            retry_after=retry_after,
        )
        problem.headers["Retry-After"] = str(retry_after)
        raise problem


class ApiTokenAuth(HttpBearer):
    """Bearer token for one module: reading needs `<module>:read` (or write), anything else `<module>:write`."""

    def __init__(self, module: str) -> None:
        super().__init__()
        self.module = module

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = api_token_authenticate(token)
        if found is None:
            return None
        request.user = found.user
        user_id.set(str(found.user.pk))
        request.api_token = found  # type: ignore[attr-defined]
        rate_limit_check(found)
        write = request.method not in SAFE_METHODS
        access = ApiAccess.WRITE if write else ApiAccess.READ
        if not token_has_scope(found, self.module, access):
            raise ApiProblem(
                403, slug="insufficient-scope", detail=f"This needs the scope {self.module}:{access}.", scope=access
            )
        kwargs = request.resolver_match.kwargs if request.resolver_match else {}
        if not user_has_permission(found.user, self.module, AccessLevel.VIEW):
            if names_an_object(kwargs):
                raise ApiProblem(404)
            raise ApiProblem(403, detail="The token's user has no access to this module.")
        return found


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b" " + request.path.encode() + b"\n")
    digest.update(request.body)
    return digest.hexdigest()


def _replay(stored: IdempotentResponse, fingerprint: str, request: HttpRequest) -> HttpResponse:
    if stored.fingerprint != fingerprint:
        return problem_from(
            request,
            ApiProblem(422, slug="idempotency-key-reused", detail="Send a new Idempotency-Key for a new request."),
        )
    response = HttpResponse(bytes(stored.body), status=stored.status_code, content_type=stored.content_type)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(view):
    """A POST with an `Idempotency-Key` acts once: its answer is committed with what it changed, and the
    same key with the same request gets that answer again (`Idempotent-Replayed: true`). A second request
    with the key while the first is running waits for it. A server error keeps nothing, so it may be retried."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        key = (request.headers.get(IDEMPOTENCY_HEADER) or "").strip()
        if not key or len(key) > 255:
            raise ApiProblem(
                400, slug="idempotency-key-missing", detail="Send a unique Idempotency-Key (at most 255 characters)."
            )
        token: ApiToken = request.auth  # type: ignore[attr-defined]
        fingerprint = _fingerprint(request)
        try:
            with transaction.atomic():
                # The unique (token, key) row is claimed first: a concurrent twin waits on it, then replays.
                claim = IdempotentResponse.objects.create(
                    token=token, key=key, fingerprint=fingerprint, status_code=0, body=b"", content_type=""
                )
                try:
                    response = view(request, *args, **kwargs)
                except ApiProblem as problem:
                    response = problem_from(request, problem)
                if not isinstance(response, HttpResponseBase):
                    raise TypeError("An idempotent API view returns an HttpResponse (see api.schemas.json_response).")
                if response.status_code >= 500:
                    transaction.set_rollback(True)
                    return response
                claim.status_code = response.status_code
                claim.body = response.content
                claim.content_type = response["Content-Type"]
                claim.save(update_fields=["status_code", "body", "content_type"])
                return response
        except IntegrityError:
            stored = IdempotentResponse.objects.filter(token=token, key=key).first()
            if stored is None or stored.status_code == 0:
                raise ApiProblem(409, detail="A request with this Idempotency-Key is still running.") from None
            return _replay(stored, fingerprint, request)

    return wrapped
