"""The settings of a deploy that adds one column to every partner schema (`bench/tenancy.py`)."""

from portal.settings.base import *  # noqa: F403
from portal.settings.base import INSTALLED_APPS, TENANT_APPS

TENANT_APPS = [*TENANT_APPS, "bench.tenancy_column"]
INSTALLED_APPS = [*INSTALLED_APPS, "bench.tenancy_column"]
