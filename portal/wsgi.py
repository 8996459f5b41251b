import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.base")

application = get_wsgi_application()

from portal.observability.tracing import observability_start  # noqa: E402  (after Django is set up)

observability_start(service="console-web")
