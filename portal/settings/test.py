"""Test settings: the real PostgreSQL and Redis, tasks run eagerly, fast password hashing."""

import os

os.environ.setdefault("DEBUG", "1")

from portal.content_security_policy import content_security_policy  # noqa: E402
from portal.env import env_bool, env_str  # noqa: E402
from portal.settings.base import *  # noqa: E402,F403
from portal.settings.base import CACHES, MICROSOFT_AUTHORITY, MICROSOFT_SIMULATOR_URL, PORTAL_PORT  # noqa: E402

PORTAL_DOMAIN = "console.test"
ALLOWED_HOSTS = [".console.test", "console.test", "localhost", ".localhost", "127.0.0.1"]
CSRF_TRUSTED_ORIGINS = ["http://*.console.test", "http://*.localhost:*"]
CONTENT_SECURITY_POLICY = content_security_policy(
    public_origin=f"http://{PORTAL_DOMAIN}{':' + PORTAL_PORT if PORTAL_PORT else ''}",
    form_targets=[MICROSOFT_AUTHORITY, MICROSOFT_SIMULATOR_URL],
)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Integration tests run real workers and servers with these settings and eager mode off.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
CELERY_TASK_EAGER_PROPAGATES = True
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
CACHES = {**CACHES, "default": {**CACHES["default"], "KEY_PREFIX": "console-test"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
