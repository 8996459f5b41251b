from django.urls import path

from portal.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("language/", views.language_switch, name="language_switch"),
    path("<slug:section>/", views.section, name="section"),
]
