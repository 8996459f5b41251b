from django.urls import path

from support import views

app_name = "help"

urlpatterns = [
    path("feedback/", views.feedback_submit_view, name="feedback"),
]
