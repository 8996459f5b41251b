"""The Celery app. Tasks carry the schema they were sent from (tenant-schemas-celery) and run in it."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.base")

app = CeleryApp("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Autodiscovery looks for `<app>.tasks` only; the subscription lifecycle's tasks are in their own module.
app.autodiscover_tasks(["subscriptions"], related_name="tasks_lifecycle")
