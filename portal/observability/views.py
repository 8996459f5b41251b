import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from portal.observability.metrics import metrics_text
from portal.observability.readiness import readiness_checks


@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    """200 when every check passes, else 503; the body names each check (read by load balancers)."""
    checks = readiness_checks()
    ready = all(check.ok for check in checks)
    body = {
        "ready": ready,
        "checks": {check.name: check.detail or ("ok" if check.ok else "failing") for check in checks},
    }
    return JsonResponse(body, status=200 if ready else 503)


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics, for a scraper holding METRICS_TOKEN (open without one only in development)."""
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given, token):
            raise Http404
    elif not settings.DEBUG:
        raise Http404
    body, content_type = metrics_text()
    return HttpResponse(body, content_type=content_type)
