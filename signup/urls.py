from django.urls import path

from signup import views

app_name = "signup"

urlpatterns = [
    path("", views.sign_up, name="sign_up"),
    path("data-centre/", views.data_centre, name="data_centre"),
    path("terms/", views.terms, name="terms"),
    path("verify/<str:token>/", views.verify, name="verify"),
    path("<uuid:public_id>/", views.progress, name="progress"),
]
