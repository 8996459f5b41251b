from django.urls import path

from portal.microsoft import views_public

app_name = "microsoft_public"

urlpatterns = [
    path("callback/", views_public.callback, name="callback"),
]
