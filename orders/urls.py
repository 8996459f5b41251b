"""Order screens, at /orders/ in the `orders` namespace."""

from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="order_list"),
    path("new/", views.order_new, name="order_new"),
    path("cart/", views.cart_index, name="cart"),
    path("<int:order_pk>/", views.order_detail, name="order_detail"),
    path("<int:order_pk>/cart/", views.order_cart, name="order_cart"),
    path("<int:order_pk>/submit/", views.order_submit_view, name="order_submit"),
    path("<int:order_pk>/details/", views.order_details_view, name="order_details"),
    path("<int:order_pk>/quote/", views.order_quote_create_view, name="order_quote_create"),
    path("<int:order_pk>/cancel/", views.order_cancel_view, name="order_cancel"),
    path("<int:order_pk>/lines/<int:line_pk>/remove/", views.order_line_remove_view, name="order_line_remove"),
    path("<int:order_pk>/lines/<int:line_pk>/retry/", views.order_line_retry_view, name="order_line_retry"),
    path("quotes/", views.quote_list, name="quote_list"),
    path("quotes/<int:quote_pk>/", views.quote_detail, name="quote_detail"),
    path("quotes/<int:quote_pk>/print/", views.quote_print, name="quote_print"),
    path("quotes/<int:quote_pk>/accept/", views.quote_accept_view, name="quote_accept"),
    path("quotes/<int:quote_pk>/withdraw/", views.quote_withdraw_view, name="quote_withdraw"),
]
