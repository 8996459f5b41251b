"""The public customer registration on a partner's host, under /register/ (namespace `customer_registration`)."""

from django.urls import path

from customers import views_registration as views

app_name = "customer_registration"

urlpatterns = [
    path("", views.register, name="register"),
    path("sent/", views.sent, name="sent"),
    path("verify/<str:token>/", views.verify, name="verify"),
]

# Settings > Customer registration, under /settings/customer-registration/ (namespace `registration_settings`).
settings_urlpatterns = [
    path("", views.registration_settings, name="index"),
    path("<int:pk>/<str:decision>/", views.registration_decide, name="decide"),
]
