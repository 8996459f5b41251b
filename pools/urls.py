from django.urls import path

from pools import views

app_name = "pools"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("own/", views.own_pools, name="own_pools"),
    path("columns/", views.columns, name="columns"),
    path("add/", views.allocation_add, name="allocation_add"),
    path("allocations/<int:pk>/edit/", views.allocation_edit, name="allocation_edit"),
    path("allocations/<int:pk>/return/", views.allocation_return_view, name="allocation_return"),
]
