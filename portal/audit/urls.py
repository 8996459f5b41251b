from django.urls import path

from portal.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.notification_panel, name="notification_panel"),
    path("mark-read/", views.notifications_mark_all_read, name="notifications_mark_read"),
    path("<int:pk>/open/", views.notification_open, name="notification_open"),
]
