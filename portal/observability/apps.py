from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    """Installed so that Celery's autodiscovery finds its heartbeat task; it has no models."""

    name = "portal.observability"
    label = "observability"
    verbose_name = "Logs, metrics and readiness"
