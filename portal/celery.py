"""The Celery app. Tasks carry the schema they were sent from (tenant-schemas-celery) and run in it."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.base")

app = CeleryApp("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Every app's tasks are in its `tasks` module, which is where autodiscovery looks.
app.autodiscover_tasks()
