"""Mounted at /api/v1/ by the partner hosts' URLconf (namespace `api`)."""

from api.v1 import api

app_name = "api"
urlpatterns = api.urls[0]
