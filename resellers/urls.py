from django.urls import path

from resellers import views, views_providers

app_name = "resellers"

urlpatterns = [
    # The large account reseller's directory (404 at any other partner).
    path("", views.directory, name="directory"),
    path("columns/", views.directory_columns, name="directory_columns"),
    path("invite/", views.invite, name="invite"),
    path("invite/email/", views.invite_email, name="invite_email"),
    path("invite/batch/", views.batch_invite, name="batch_invite"),
    path("invite/batch/confirm/", views.batch_confirm, name="batch_confirm"),
    path("invite/batch/template.xlsx", views.batch_template_xlsx_download, name="batch_template_xlsx"),
    path("invite/batch/template.csv", views.batch_template_csv_download, name="batch_template_csv"),
    path("<int:pk>/map/", views.reseller_map_view, name="map"),
    path("<int:pk>/delete/", views.reseller_delete_view, name="delete"),
    path("<int:pk>/visibility/off/", views.visibility_off, name="visibility_off"),
    # The reseller side: any partner a large account reseller invited.
    path("my-providers/", views_providers.my_providers, name="my_providers"),
    path(
        "my-providers/<int:pk>/accept/",
        views_providers.invitation_answer,
        {"accept": True},
        name="invitation_accept",
    ),
    path(
        "my-providers/<int:pk>/decline/",
        views_providers.invitation_answer,
        {"accept": False},
        name="invitation_decline",
    ),
    path("my-providers/<int:pk>/visibility/", views_providers.my_visibility, name="my_visibility"),
    path(
        "my-providers/pools/<int:pk>/accept/",
        views_providers.allocation_answer,
        {"accept": True},
        name="allocation_accept",
    ),
    path(
        "my-providers/pools/<int:pk>/decline/",
        views_providers.allocation_answer,
        {"accept": False},
        name="allocation_decline",
    ),
    path("my-providers/pools/<int:pk>/assign/", views_providers.assignment_create, name="assignment_create"),
    path("my-providers/assignments/<int:pk>/end/", views_providers.assignment_end, name="assignment_end"),
]
